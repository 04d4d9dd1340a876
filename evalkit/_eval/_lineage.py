"""What earlier runs of a task already did, merged across the whole lineage.

Every log in the directory with the same ``task_id`` counts: the original run,
retries, and retries that were themselves killed. A sample completed in any of
them is reused; its attempts and errors add up across all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LogError
from ..log import EvalError, EvalSpec, iter_sample_lines, list_eval_logs, read_eval_log_header

SampleKey = tuple[str, int]


@dataclass
class PastSample:
    """The most useful record of one (sample id, epoch) across the lineage."""

    line: bytes
    record: dict[str, Any]

    @property
    def completed(self) -> bool:
        return not self.record.get("cancelled") and self.record.get("error") is None

    @property
    def attempts(self) -> int:
        return int(self.record.get("attempts", 1))

    def errors(self) -> list[EvalError]:
        history = [EvalError.model_validate(e) for e in self.record.get("error_history", [])]
        if self.record.get("error") is not None:
            history.append(EvalError.model_validate(self.record["error"]))
        return history


@dataclass
class Lineage:
    logs: list[Path] = field(default_factory=list)
    samples: dict[SampleKey, PastSample] = field(default_factory=dict)


def key_of(sample_id: Any, epoch: int) -> SampleKey:
    return (str(sample_id), int(epoch))


def load_lineage(log: Path, spec: EvalSpec) -> Lineage:
    """The samples of every run of ``spec.task_id`` in ``log``'s directory."""
    lineage = Lineage(logs=_same_task_logs(log, spec.task_id))
    for path in reversed(lineage.logs):  # oldest first, so newer records win ties
        for line in iter_sample_lines(path):
            record = json.loads(line)
            _keep_best(lineage.samples, key_of(record["id"], record.get("epoch", 1)),
                       PastSample(line, record))
    return lineage


def _same_task_logs(log: Path, task_id: str) -> list[Path]:
    found = [log]
    for path in list_eval_logs(log.parent):
        if path.resolve() == log.resolve():
            continue
        try:
            if read_eval_log_header(path).eval.task_id == task_id:
                found.append(path)
        except LogError:
            continue  # an unrelated or damaged file must not block the retry
    return sorted(found, key=lambda path: path.name, reverse=True)


def _keep_best(samples: dict[SampleKey, PastSample], key: SampleKey, new: PastSample) -> None:
    old = samples.get(key)
    if old is None or _rank(new) >= _rank(old):
        samples[key] = new


def _rank(past: PastSample) -> tuple[int, int]:
    """Completed beats errored beats cancelled; then more attempts (more history)."""
    if past.completed:
        return (2, past.attempts)
    if past.record.get("cancelled"):
        return (0, past.attempts)
    return (1, past.attempts)
