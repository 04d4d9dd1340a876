"""``evalkit eval-set``: flags to ``eval_set()``, its outcome to an exit code."""

from __future__ import annotations

import argparse

from ._coerce import parse_assignments
from ._eval_cmd import exit_code, model_names, run_options, watch_if_asked


def eval_set_command(args: argparse.Namespace) -> int:
    """0 every member succeeded · 1 one failed · 2 a member is being run by another
    process · 3 stopped on a provider abort (run it again) · 130 cancelled."""
    from .._eval._eval_set import run_eval_set
    from .._eval._retry import RetryInterrupted
    from .._eval._sync import run_sync
    from ..errors import UsageError

    if not args.log_dir:
        raise UsageError("an eval set needs its own directory: pass --log-dir DIR")
    options = run_options(args)
    log_dir = options.pop("log_dir")
    if args.max_attempts is not None:
        options["max_attempts"] = args.max_attempts
    watch_if_asked(args)
    try:
        outcome = run_sync(lambda: run_eval_set(
            args.tasks, log_dir, model_names(args.model),
            task_args=parse_assignments(args.task_args, "-T"),
            retry_attempts=args.retry_attempts, retry_wait=args.retry_wait,
            allow_new_members=args.allow_new_members, **options))
    except RetryInterrupted:
        return 130  # Ctrl-C while waiting between rounds; the finish command was printed
    code = exit_code(outcome.log_list())
    if outcome.locked and code in (0, 1):
        return 2  # another process runs part of the set: as a refused lineage lock
    if code == 0 and not outcome.success:
        return 1
    return code
