"""The ``evalkit`` command: parses arguments and calls the runner, nothing more."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import os
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence
from pathlib import Path

from .._util._signals import guard_signals
from ..errors import EvalInterrupted, EvalkitError, LogError
from ._parser import build_parser

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``evalkit``; returns the exit code (see ``evalkit --help``)."""
    # First, so SIGINT/SIGTERM are honoured from the first instant (exit 130).
    with guard_signals() as guard:
        try:
            return _main(argv)
        except KeyboardInterrupt:
            return _cancelled(argv)
        except BaseException:
            # The interrupt a signal raised can come out as another exception: in a C
            # extension's import PyO3 turns it into a PanicException. The signal was
            # recorded first, so it is still a cancellation, not a crash.
            if guard is not None and guard.requested is not None:
                return _cancelled(argv)
            raise


def _main(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if not args.debug:
        warnings.showwarning = _one_line_warning
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


def _one_line_warning(message: Warning | str, category: type[Warning], *_: object,
                      **__: object) -> None:
    """A warning (a damaged log, ...) as one line, without the code that raised it."""
    print(f"evalkit: warning: {message}", file=sys.stderr)


def _cancelled(argv: Sequence[str] | None) -> int:
    """A signal while no run was in progress: say what there is to resume, if anything."""
    from .._util._signals import noted_logs

    # noted_logs() also makes signals stop interrupting from here on.
    touched = noted_logs() or _logs_to_retry(argv)
    commands = _resume_commands(touched) if touched else []
    if not touched:
        print("evalkit: cancelled before anything ran", file=sys.stderr, flush=True)
    elif not commands:
        print("evalkit: cancelled after every log was complete; nothing to resume",
              file=sys.stderr, flush=True)
    else:
        print("evalkit: cancelled", file=sys.stderr)
        for command in commands:
            print(f"resume with: {command}", file=sys.stderr, flush=True)
    return 130


def _logs_to_retry(argv: Sequence[str] | None) -> list[Path]:
    """The logs an ``eval-retry`` was given: still there to resume when a signal came
    before the retry read them (while evalkit was still importing)."""
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # a bad flag was reported, or will be
            args = build_parser().parse_args(argv)
    except SystemExit:
        return []
    return [Path(log) for log in args.logs] if args.command == "eval-retry" else []


def _resume_commands(logs: list[Path]) -> list[str]:
    """``eval-retry`` commands for the logs that are readable and have samples left to
    run: not finished, or a success that kept errored or cancelled samples
    (``--no-fail-on-error``, a threshold not passed), which eval-retry re-runs."""
    from .._eval._display import resume_command_for
    from ..log import read_eval_log_header

    commands = []
    for path in logs:
        try:
            header = read_eval_log_header(path)
        except (LogError, OSError):
            continue  # gone, or never got its header: nothing to resume from it
        results = header.results
        left = results is not None and (results.errored_samples or results.cancelled_samples
                                        or results.completed_samples < results.total_samples)
        if header.status != "success" or left:
            commands.append(resume_command_for(path))
    return commands


def _dispatch(args: argparse.Namespace) -> int:
    # Imported per command so `evalkit log ls` never loads the runner.
    from . import _eval_cmd, _log_cmd

    if args.command == "eval":
        return _eval_cmd.eval_command(args)
    if args.command == "eval-retry":
        return _eval_cmd.eval_retry_command(args)
    if args.command == "eval-set":
        from ._eval_set_cmd import eval_set_command

        return eval_set_command(args)
    if args.command == "view":
        from ._view_cmd import view_command

        return view_command(args)
    return _log_cmd.log_command(args)


def run() -> None:
    """The ``evalkit`` console script."""
    # Under the handlers ``main`` installs (and restores on its way out), so a second
    # signal landing while the process exits still exits 130, not 143 or a traceback.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_cancelled)
    # Run last of the exit functions registered from here on (they run in reverse).
    atexit.register(_ignore_signals_while_python_tears_down)
    sys.exit(main())


def _ignore_signals_while_python_tears_down() -> None:
    """After the exit functions, Python resets every signal it handles to the default
    action and then takes its modules apart (tens of ms for ours): a Ctrl-C/SIGTERM
    landing then killed a finished command (143). Ignored, the command exits with its
    own code; the logs and the output were complete before this point."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def _exit_cancelled(signum: int, frame: object) -> None:
    with contextlib.suppress(Exception):  # a stream may be closed already
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(130)
