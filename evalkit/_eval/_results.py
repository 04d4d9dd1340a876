"""Counting outcomes and computing metrics as samples finish.

Only what the footer needs is kept per sample (numeric score values and
usage), so memory stays small however many samples run.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Literal

from ..log import EvalMetric, EvalResults, EvalSample, EvalScore
from ..model import ModelUsage
from ..scorer import (
    Metric,
    Scorer,
    get_reducer,
    metric_name,
    scorer_metrics,
    scorer_name,
    value_to_float,
)
from ..scorer._metrics import is_unscored, metric_value, scored

Outcome = Literal["completed", "error", "limited", "cancelled"]


def outcome_of(sample: EvalSample) -> Outcome:
    if sample.cancelled:
        return "cancelled"
    if sample.error is not None:
        return "error"
    return "limited" if sample.limit is not None else "completed"


def outcome_of_raw(record: dict[str, Any]) -> Outcome:
    """``outcome_of`` for a sample record still in JSON form (carried-over lines)."""
    if record.get("cancelled"):
        return "cancelled"
    if record.get("error") is not None:
        return "error"
    return "limited" if record.get("limit") is not None else "completed"


class ResultsTally:
    """Running counts, per-scorer values and usage of the samples of one run."""

    def __init__(self, total: int, epochs: int = 1) -> None:
        self.total = total
        self.counts: dict[Outcome, int] = defaultdict(int)
        # One epoch: a flat array of floats (8 bytes a sample). Several: grouped by
        # sample id, for the epoch reducer. NaN stands for unscored.
        self.flat: dict[str, array[float]] = defaultdict(lambda: array("d"))
        self.values: dict[str, dict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.epochs = epochs
        self.usage: dict[str, ModelUsage] = {}

    def add(self, sample: EvalSample) -> Outcome:
        scores = {name: score.value for name, score in (sample.scores or {}).items()}
        return self.add_raw(outcome_of(sample), sample.id, scores, sample.model_usage)

    def add_raw(
        self,
        outcome: Outcome,
        sample_id: Any,
        scores: dict[str, Any],
        usage: dict[str, ModelUsage],
    ) -> Outcome:
        self.counts[outcome] += 1
        for name, value in scores.items():
            number = _as_number(value)
            if self.epochs == 1:
                self.flat[name].append(number)
            else:
                # by str: a retry may carry id 1 from a log and re-run it as "1"
                self.values[name][str(sample_id)].append(number)
        for model, used in usage.items():
            current = self.usage.get(model)
            self.usage[model] = used if current is None else current + used
        return outcome

    @property
    def errors(self) -> int:
        return self.counts["error"]

    @property
    def finished(self) -> int:
        return sum(self.counts.values()) - self.counts["cancelled"]

    def results(self, scorers: list[Scorer], reducer: str,
                metrics: list[Metric] | None = None) -> EvalResults:
        """The counts, and each scorer's metrics (``metrics``, when given, for every one)."""
        return EvalResults(
            total_samples=self.total,
            completed_samples=self.counts["completed"] + self.counts["limited"],
            errored_samples=self.counts["error"],
            limited_samples=self.counts["limited"],
            cancelled_samples=self.counts["cancelled"],
            scores=[self._score(scorer, reducer, metrics) for scorer in scorers],
        )

    def _score(self, scorer: Scorer, reducer_name: str,
               metrics_override: list[Metric] | None) -> EvalScore:
        name = scorer_name(scorer)
        reducer = get_reducer(reducer_name)
        if self.epochs == 1:
            per_sample: Sequence[float] = self.flat.get(name, array("d"))
        else:
            per_sample = [reducer(v) for v in self.values.get(name, {}).values()]
        kept = scored(per_sample)
        metrics = {
            metric_name(metric): EvalMetric(name=metric_name(metric),
                                            value=metric_value(metric, kept))
            for metric in (scorer_metrics(scorer) if metrics_override is None
                           else metrics_override)
        }
        return EvalScore(name=name, scored_samples=len(kept),
                         unscored_samples=len(per_sample) - len(kept), metrics=metrics)


def _as_number(value: Any) -> float:
    """A score value as a float for the metrics; NaN when unscored or not a number."""
    if is_unscored(value):
        return math.nan
    try:
        return value_to_float(value)
    except ValueError:
        return math.nan  # free text has no place in numeric metrics: unscored
