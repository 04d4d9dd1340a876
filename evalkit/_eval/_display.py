"""What the terminal shows: live progress, results, warnings, resume commands.

``rich``: a live bar per task (done/total, errors, retries, samples/s, ETA)
and a results table; ``plain``: a line per task every few seconds, for CI
logs; ``none``: only the results. Counters are read on a timer, never pushed
per sample, so the display costs the hot path nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..log import EvalLog
from ._progress import TaskProgress

PLAIN_INTERVAL = 5.0


class Display:
    """Progress and results for one ``eval()`` call."""

    def __init__(self, mode: str, stream: TextIO | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stderr
        self.tasks: list[TaskProgress] = []
        self._live: Any = None
        self._bars: dict[int, Any] = {}
        self._last_plain = 0.0

    def start(self) -> None:
        if self.mode != "rich":
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._live = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=Console(file=self.stream), auto_refresh=False, transient=False,
        )
        self._live.start()

    def add(self, progress: TaskProgress) -> None:
        self.tasks.append(progress)
        if self._live is not None:
            self._bars[id(progress)] = self._live.add_task(
                f"{progress.task} ({progress.model})", total=progress.total, status="")

    def refresh(self, force: bool = False) -> None:
        """Redraw from the counters (called a few times a second)."""
        if self._live is not None:
            for progress in self.tasks:
                self._live.update(self._bars[id(progress)], completed=progress.done,
                                  status=status_text(progress))
            self._live.refresh()
        elif self.mode == "plain":
            now = time.monotonic()
            if force or now - self._last_plain >= PLAIN_INTERVAL:
                self._last_plain = now
                for progress in self.tasks:
                    print(f"[{progress.task}] {progress.done}/{progress.total} "
                          f"{status_text(progress)}", file=self.stream, flush=True)

    def stop(self) -> None:
        self.refresh(force=True)
        if self._live is not None:
            self._live.stop()
            self._live = None

    def warn(self, message: str) -> None:
        print(f"warning: {message}", file=self.stream, flush=True)

    def summary(self, logs: Sequence[EvalLog]) -> None:
        """The results of every task, warnings for failed samples, resume commands."""
        print(results_text(logs), file=sys.stdout, flush=True)
        for log in logs:
            for line in outcome_notes(log):
                print(line, file=self.stream, flush=True)


def status_text(progress: TaskProgress) -> str:
    parts = [f"errors {progress.errors}"]
    if progress.limited:
        parts.append(f"limited {progress.limited}")
    if progress.cancelled:
        parts.append(f"cancelled {progress.cancelled}")
    if progress.retries:
        parts.append(f"retries {progress.retries}")
    parts.append(f"{progress.rate():.0f} samples/s")
    eta = progress.eta()
    if eta is not None and progress.done < progress.total:
        parts.append(f"ETA {eta:.0f}s")
    return " · ".join(parts)


def results_text(logs: Sequence[EvalLog]) -> str:
    """A plain-text results table; readable in a terminal, a CI log or a notebook."""
    rows = [("task", "model", "status", "total", "done", "errors", "limited", "cancelled",
             "metrics")]
    for log in logs:
        r = log.results
        metrics = ", ".join(
            f"{score.name}/{name}={metric.value:.3f}"
            for score in (r.scores if r else []) for name, metric in score.metrics.items())
        counts = ((r.total_samples, r.completed_samples, r.errored_samples, r.limited_samples,
                   r.cancelled_samples) if r else ("?",) * 5)
        rows.append((log.eval.task, log.eval.model, log.status, *map(str, counts), metrics))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def outcome_notes(log: EvalLog) -> list[str]:
    """Warnings about failed samples, the eval error and how to resume."""
    notes: list[str] = []
    r = log.results
    if r is not None and r.errored_samples:
        notes.append(f"warning: {r.errored_samples} of {r.total_samples} samples failed in "
                     f"{log.eval.task}; see `evalkit log samples {log.location} --errors`")
    if log.error is not None:
        notes.append(f"error: {log.error.message}")
    if log.status != "success":
        notes.append(f"resume with: {resume_command(log)}")
    notes.append(f"log: {log.location}")
    return notes


def resume_command(log: EvalLog) -> str:
    return f"evalkit eval-retry {log.location}"
