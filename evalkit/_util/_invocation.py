"""How to run evalkit again from a shell: the start of every printed command.

A resume command (``evalkit eval-retry LOG``) is only useful if it runs where
the user pastes it. ``evalkit`` works when that is how this process was started
and the script is on ``PATH``; a process started as ``python -m evalkit`` (or
with evalkit's script not on ``PATH``, e.g. a virtualenv's interpreter run by
its path without activating it) gets ``python -m evalkit`` instead, naming this
interpreter by its full path unless ``python`` (or ``python3``) on ``PATH`` is
this very interpreter.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import sys

__all__ = ["command_for", "evalkit_command"]


_MAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     "__main__.py")
"""evalkit/__main__.py: what ``python -m evalkit`` puts in ``sys.argv[0]``."""


@functools.cache
def evalkit_command() -> str:
    """``evalkit``, or the ``python -m evalkit`` that runs this evalkit (shell-quoted)."""
    argv0 = sys.argv[0] if sys.argv else ""
    return command_for(started_as_module=bool(argv0) and os.path.abspath(argv0) == _MAIN)


def command_for(started_as_module: bool) -> str:
    """:func:`evalkit_command` of a process started as ``python -m evalkit`` or not."""
    if not started_as_module and shutil.which("evalkit") is not None:
        return "evalkit"
    return f"{_python()} -m evalkit"


def _python() -> str:
    """A name of this interpreter on ``PATH``, else its full path."""
    for name in ("python", "python3"):
        found = shutil.which(name)
        if found is not None and _same_interpreter(found, sys.executable):
            return name
    return shlex.quote(sys.executable)


def _same_interpreter(found: str, executable: str) -> bool:
    # The same binary in the same directory: a virtualenv's python is a link to the base
    # interpreter, but only run from the virtualenv's bin/ does it see its packages.
    try:
        return (os.path.dirname(os.path.abspath(found)) == os.path.dirname(os.path.abspath(
            executable)) and os.path.samefile(found, executable))
    except OSError:
        return False
