"""``python -m evalkit`` runs the command line."""

from ._cli import run

run()
