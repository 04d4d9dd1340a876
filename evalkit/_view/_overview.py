"""One row per log for the logs page, cached until the file changes.

A finished log is summarised from its header and footer (O(1) in the number
of samples). A log with no footer is a run still going or one that was
interrupted: its samples are counted from the file, parsing only the lines
that can hold an error, a limit or a cancellation. A log that cannot be read
whole still gets a row, with what could be read and a ``problem`` saying what
could not.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LogError
from ..log import EvalLog, EvalSpec, iter_lines, iter_sample_lines, read_eval_log_header
from ._damage import collecting, joined

RUNNING_SECONDS = 60.0
"""A footerless log written to within this many seconds counts as running."""

_MARKERS = (b'"error":{', b'"limit":{', b'"cancelled":true')


@dataclass
class SampleCounts:
    """Outcomes among the samples written so far (``done`` includes limit hits)."""

    done: int = 0
    errored: int = 0
    limited: int = 0
    cancelled: int = 0


@dataclass
class LogOverview:
    """What the logs page shows of one log."""

    name: str
    status: str
    task: str = ""
    task_id: str = ""
    run_id: str = ""
    retry_of: str | None = None
    model: str = ""
    created: str = ""
    total: int = 0
    counts: SampleCounts = field(default_factory=SampleCounts)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    cost: float | None = None
    started_at: str | None = None
    completed_at: str | None = None
    modified: float = 0.0
    running: bool = False
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def overview_of(name: str, path: Path) -> LogOverview:
    """The row of one log; never raises for a bad log (the row says what is wrong)."""
    with collecting() as damage:
        try:
            log = read_eval_log_header(path)
        except LogError as exc:
            row = _unreadable(name, path, path.stat().st_mtime, str(exc))
        else:
            row = overview_from(name, path, log)
    row.problem = joined(row.problem, damage)
    return row


def overview_from(name: str, path: Path, log: EvalLog) -> LogOverview:
    """The row of a log whose header and footer were read into ``log``."""
    modified = path.stat().st_mtime
    row = _from_spec(name, log.eval, log.status, modified)
    if log.results is not None:
        _add_results(row, log)
    else:
        row.counts, row.problem = count_samples(path)
        row.running = time.time() - modified < RUNNING_SECONDS
    return row


def _from_spec(name: str, spec: EvalSpec, status: str, modified: float) -> LogOverview:
    epochs = spec.config.get("epochs", 1)
    return LogOverview(
        name=name, status=status, task=spec.task, task_id=spec.task_id, run_id=spec.run_id,
        retry_of=spec.retry_of, model=spec.model, created=spec.created,
        total=spec.dataset.samples * (epochs if isinstance(epochs, int) else 1),
        modified=modified,
    )


def _add_results(row: LogOverview, log: EvalLog) -> None:
    assert log.results is not None
    results = log.results
    row.total = results.total_samples
    row.counts = SampleCounts(done=results.completed_samples, errored=results.errored_samples,
                              limited=results.limited_samples,
                              cancelled=results.cancelled_samples)
    row.metrics = [
        {"scorer": score.label, "metric": metric.name, "value": _finite(metric.value)}
        for score in results.scores for metric in score.metrics.values()
    ]
    if log.stats is not None:
        row.cost = log.stats.cost
        row.started_at, row.completed_at = log.stats.started_at, log.stats.completed_at


def _finite(value: float | None) -> float | None:
    """NaN or infinity as None: JSON has neither."""
    return None if value is None or not math.isfinite(value) else value


def _unreadable(name: str, path: Path, modified: float, problem: str) -> LogOverview:
    """A row for a log whose header or footer is damaged: the header if it parses."""
    spec = header_only(path)
    if spec is None:
        return LogOverview(name=name, status="unreadable", modified=modified, problem=problem)
    row = _from_spec(name, spec, "unreadable", modified)
    row.counts, more = count_samples(path)
    row.problem = problem if more is None else f"{problem}; {more}"
    return row


def header_only(path: Path) -> EvalSpec | None:
    """The header of a log whose footer cannot be read, if its first line parses."""
    try:
        first = next(iter_lines(path), None)
        return EvalSpec.model_validate_json(first) if first else None
    except (LogError, ValueError):
        return None


def count_samples(path: Path) -> tuple[SampleCounts, str | None]:
    """Outcome counts of the sample lines in ``path``, and what stopped the count early."""
    counts = SampleCounts()
    try:
        for line in iter_sample_lines(path):
            _count(counts, line)
    except LogError as exc:
        return counts, f"{exc} (counted the {_written(counts)} samples before it)"
    return counts, None


def _count(counts: SampleCounts, line: bytes) -> None:
    # Only a line holding one of the markers can be anything but a plain
    # success; parse just those (a marker inside a message is escaped, but a
    # nested key such as an event's could still match, so look at the record).
    if not any(marker in line for marker in _MARKERS):
        counts.done += 1
        return
    record = json.loads(line)
    if record.get("cancelled"):
        counts.cancelled += 1
    elif record.get("error") is not None:
        counts.errored += 1
    else:
        counts.done += 1
        if record.get("limit") is not None:
            counts.limited += 1


def _written(counts: SampleCounts) -> int:
    return counts.done + counts.errored + counts.cancelled


class OverviewCache:
    """Rows keyed by file name, recomputed only when a file's size or mtime changes."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[tuple[int, int], LogOverview]] = {}
        self._lock = threading.Lock()

    def row(self, name: str, path: Path) -> LogOverview:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._rows.get(name)
        if cached is not None and cached[0] == key:
            row = cached[1]
            if row.running:  # unchanged for a while: a footerless log stops counting as running
                row.running = time.time() - row.modified < RUNNING_SECONDS
            return row
        row = overview_of(name, path)
        with self._lock:
            self._rows[name] = (key, row)
        return row

    def forget_except(self, names: set[str]) -> None:
        """Drop rows of files that are gone, so the cache never outgrows the directory."""
        with self._lock:
            for name in [name for name in self._rows if name not in names]:
                del self._rows[name]
