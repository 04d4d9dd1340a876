"""``evalkit log ls | info | dump | samples``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import LogError
from ..log import (
    EvalLog,
    iter_lines,
    list_eval_logs,
    read_eval_log_header,
    read_eval_log_samples,
)


def log_command(args: argparse.Namespace) -> int:
    handlers = {"ls": _ls, "info": _info, "dump": _dump, "samples": _samples}
    return handlers[args.log_command](args)


def _ls(args: argparse.Namespace) -> int:
    rows = []
    for path in list_eval_logs(args.dir):
        try:
            log = read_eval_log_header(path)
        except LogError as exc:
            print(f"warning: skipped {path.name}: {exc}", file=sys.stderr)
            continue
        if args.status is None or log.status == args.status:
            rows.append(summary_row(log, path))
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print(format_table(rows))
    return 0


def summary_row(log: EvalLog, path: Path) -> dict[str, Any]:
    """One run as shown by ``log ls``."""
    results = log.results
    done = results.completed_samples if results else _count_samples(path)
    total = results.total_samples if results else log.eval.dataset.samples * int(
        log.eval.config.get("epochs", 1))
    return {
        "created": log.eval.created[:19].replace("T", " "),
        "task": log.eval.task, "model": log.eval.model, "status": log.status,
        "done": done, "total": total,
        "errors": results.errored_samples if results else None,
        "cost": log.stats.cost if log.stats else None,
        "log": str(path),
    }


def _count_samples(path: Path) -> int:
    """Samples written so far by a run with no footer (decompresses, never parses)."""
    return sum(1 for line in iter_lines(path) if line.startswith(b'{"type":"sample"'))


def format_table(rows: list[dict[str, Any]]) -> str:
    header = ["created", "task", "model", "status", "samples", "errors", "cost", "log"]
    cells = [header] + [[
        row["created"], row["task"], row["model"], row["status"],
        f"{row['done']}/{row['total']}",
        "-" if row["errors"] is None else str(row["errors"]),
        "-" if row["cost"] is None else f"${row['cost']:.4f}",
        Path(row["log"]).name,
    ] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in cells)


def _info(args: argparse.Namespace) -> int:
    log = read_eval_log_header(args.log)
    print(log.model_dump_json(indent=2, exclude_none=True, exclude={"samples"}))
    return 0


def _dump(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer
    for line in iter_lines(args.log):
        out.write(line + b"\n")
    out.flush()
    return 0


def _samples(args: argparse.Namespace) -> int:
    for sample in read_eval_log_samples(args.log):
        if args.errors and sample.error is None:
            continue
        if args.limited and sample.limit is None:
            continue
        if sample.cancelled:
            outcome = "cancelled"
        elif sample.error is not None:
            outcome = f"error[{sample.error.phase}/{sample.error.kind}] {sample.error.message}"
        elif sample.limit is not None:
            outcome = f"limit[{sample.limit.type}={sample.limit.limit:g}]"
        else:
            outcome = "ok"
        scores = " ".join(f"{k}={v.value}" for k, v in (sample.scores or {}).items())
        print(f"{sample.id}\tepoch {sample.epoch}\t{outcome}\t{scores}".rstrip())
    return 0
