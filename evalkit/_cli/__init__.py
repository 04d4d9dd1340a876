"""The ``evalkit`` command: parses arguments and calls the runner, nothing more."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence

from ..errors import EvalInterrupted, EvalkitError
from ._parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``evalkit``; returns the exit code (see ``evalkit --help``)."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except EvalInterrupted as exc:
        print(f"evalkit: {exc}", file=sys.stderr)
        return 130
    except EvalkitError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"evalkit: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evalkit: interrupted before any log was written", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    # Imported per command so `evalkit log ls` never loads the runner.
    from . import _eval_cmd, _log_cmd

    if args.command == "eval":
        return _eval_cmd.eval_command(args)
    if args.command == "eval-retry":
        return _eval_cmd.eval_retry_command(args)
    if args.command == "view":
        from ._view_cmd import view_command

        return view_command(args)
    return _log_cmd.log_command(args)


def run() -> None:
    sys.exit(main())
