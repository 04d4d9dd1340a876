"""``evalkit log ls | info | dump | samples``: read logs without writing Python."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from ..errors import UsageError
from ..log import EvalSample, iter_lines, read_eval_log_header, read_eval_log_samples
from ..log._listing import (
    LogSummary,
    default_log_dir,
    group_by_lineage,
    summarize_log,
    summarize_logs,
)
from ._log_info import info_text

TABLE_COLUMNS = ("created (UTC)", "task", "model", "status", "samples", "errors", "cost", "runs",
                 "log")


def log_command(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "ls": _ls, "info": _info, "dump": _dump, "samples": _samples,
    }
    try:
        return handlers[args.log_command](args)
    except BrokenPipeError:
        # `evalkit log dump LOG | head`: the reader left early, which is fine.
        # Point stdout at /dev/null so the interpreter's final flush is quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _ls(args: argparse.Namespace) -> int:
    directory = Path(args.dir or default_log_dir())
    if not directory.is_dir():
        raise UsageError(f"log directory {str(directory)!r} does not exist; give a directory "
                         "of logs (default: $EVALKIT_LOG_DIR, else ./logs)")
    summaries, skipped = summarize_logs(directory, args.status)
    for bad in skipped:
        print(f"warning: skipped {bad.path.name}: {bad.reason}", file=sys.stderr)
    if args.json:
        for summary in summaries:
            print(json.dumps(summary.as_dict()))
    elif summaries:
        print(format_table(summaries, every_run=args.all))
    else:
        which = f" with status {args.status}" if args.status else ""
        print(f"no logs{which} in {directory}", file=sys.stderr)
    return 0


def format_table(summaries: list[LogSummary], every_run: bool = False) -> str:
    """Aligned columns for a terminal: a line per lineage (a run and its retries: one
    member of an eval set) with its latest run's state; ``every_run`` adds the earlier
    runs of each lineage under it, marked ``<-``."""
    cells = [list(TABLE_COLUMNS)]
    for runs in group_by_lineage(summaries):
        cells.append(_row(runs[0], str(len(runs))))
        if every_run:
            cells.extend(_row(earlier, "<-") for earlier in runs[1:])
    widths = [max(len(line[i]) for line in cells) for i in range(len(TABLE_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
                     for line in cells)


def _row(summary: LogSummary, runs: str) -> list[str]:
    return [
        summary.created[:19].replace("T", " "), summary.task, summary.model, summary.status,
        f"{summary.done}/{summary.total}", str(summary.errors),
        "-" if summary.cost is None else f"${summary.cost:.4f}", runs,
        Path(summary.log).name,
    ]


def _info(args: argparse.Namespace) -> int:
    log = read_eval_log_header(args.log)
    # No footer yet: say how far the run got instead of leaving results empty.
    summary = summarize_log(args.log) if log.status == "started" else None
    if not args.json:
        print(info_text(log, summary))
        return 0
    data = log.model_dump(mode="json", exclude_none=True, exclude={"samples"})
    if summary is not None:
        data["progress"] = {"completed_samples": summary.done,
                            "errored_samples": summary.errors, "total_samples": summary.total}
    print(json.dumps(data, indent=2))
    return 0


def _dump(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    for line in iter_lines(args.log):
        out.write(line + b"\n")
    out.flush()
    return 0


def _samples(args: argparse.Namespace) -> int:
    filtered = args.errors or args.limited
    for sample in read_eval_log_samples(args.log):
        # --errors and --limited together show both kinds.
        wanted = (args.errors and sample.error is not None) or (
            args.limited and sample.limit is not None)
        if filtered and not wanted:
            continue
        scores = " ".join(f"{name}={score.value}" for name, score in (sample.scores or {}).items())
        print(f"{sample.id}\tepoch {sample.epoch}\t{sample_outcome(sample)}\t{scores}".rstrip())
    return 0


def sample_outcome(sample: EvalSample) -> str:
    """``ok``, ``cancelled``, ``limit[type=N]`` or ``error[phase/kind] message``."""
    if sample.cancelled:
        return "cancelled"
    if sample.error is not None:
        message = sample.error.message.splitlines()[0] if sample.error.message else ""
        return f"error[{sample.error.phase}/{sample.error.kind}] {message}"
    if sample.limit is not None:
        return f"limit[{sample.limit.type}={sample.limit.limit:g}]"
    return "ok"
