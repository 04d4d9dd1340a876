"""Counting outcomes and computing metrics as samples finish.

Only what the footer needs is kept per sample: numeric score values in flat
arrays (8 bytes a sample), and usage. Whole scores (with the sample id and the
metadata a metric reads) are kept only when a metric or reducer needs more than
numbers: a user ``@metric``, ``grouped``, a user ``@score_reducer``.
"""

from __future__ import annotations

import warnings
from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..log import EvalMetric, EvalResults, EvalSample, EvalScore
from ..model import ModelUsage
from ..scorer import SampleScore, Score, Scorer, scorer_metadata, scorer_metrics, scorer_name
from ..scorer._metric import (
    MetricSpec,
    all_metrics,
    as_number,
    evaluate,
    float_core,
    metadata_keys,
    metric_name,
    metrics_for,
    numeric_value,
    sample_score,
    scored,
    unreduced,
)
from ..scorer._reducer import (
    ScoreReducer,
    mean_score,
    reduce_floats,
    reducer_core,
    reducer_name,
)

Outcome = Literal["completed", "error", "limited", "cancelled"]
Column = tuple[str, str | None]
"""A scorer's name and, for a dict-valued score, the key."""


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


@dataclass(frozen=True)
class Scoring:
    """How a run turns scores into results: its scorers, the Task's metrics (which
    replace the scorers' own when given) and the epoch reducers."""

    scorers: Sequence[Scorer] = ()
    metrics: MetricSpec | None = None
    reducers: Sequence[ScoreReducer] = (mean_score(),)

    def spec(self, scorer: Scorer) -> MetricSpec:
        return self.metrics if self.metrics is not None else scorer_metrics(scorer)

    def needs_scores(self, epochs: int) -> bool:
        """Whether some metric or reducer reads whole scores, not just numbers."""
        metrics = [m for s in self.scorers for m in all_metrics(self.spec(s))]
        return (any(float_core(m) is None for m in metrics)
                or (epochs > 1 and any(reducer_core(r) is None for r in self.reducers)))

    def metadata_keys(self) -> frozenset[str] | None:
        """The sample metadata keys the metrics read (None: any, keep it all)."""
        keys: set[str] = set()
        for scorer in self.scorers:
            for metric in all_metrics(self.spec(scorer)):
                wanted = metadata_keys(metric)
                if wanted is None:
                    return None
                keys |= wanted
        return frozenset(keys)


@dataclass(slots=True)
class _Kept:
    """One sample's score as kept for metrics that read whole scores: no explanation
    (a grader's reasoning is the bulky part and no metric needs it)."""

    sample_id: Any
    value: Any
    answer: str | None
    score_metadata: dict[str, Any] | None
    metadata: dict[str, Any] | None

    @property
    def score(self) -> Score:
        return Score.model_construct(value=self.value, answer=self.answer,
                                     explanation=None, metadata=self.score_metadata)


class ResultsTally:
    """Running counts, per-scorer values and usage of the samples of one run."""

    def __init__(self, total: int, epochs: int = 1, scoring: Scoring | None = None) -> None:
        self.total = total
        self.counts: dict[Outcome, int] = defaultdict(int)
        self.scoring = scoring or Scoring()
        self.epochs = epochs
        # One epoch: a flat array of floats per column. Several: grouped by sample
        # id, for the epoch reducers. NaN stands for unscored.
        self.flat: dict[Column, array[float]] = defaultdict(lambda: array("d"))
        self.values: dict[Column, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        self.keep_scores = self.scoring.needs_scores(epochs)
        self._metadata_keys = self.scoring.metadata_keys() if self.keep_scores else frozenset()
        # A user metric or reducer may read a score's answer and metadata; grouped
        # and the built-ins read only values.
        self._whole = self._metadata_keys is None or (
            epochs > 1 and any(reducer_core(r) is None for r in self.scoring.reducers))
        self.kept: dict[Column, list[_Kept]] = defaultdict(list)
        self.usage: dict[str, ModelUsage] = {}

    def add(self, sample: EvalSample) -> Outcome:
        scores = sample.scores or {}
        values = {name: score.value for name, score in scores.items()}
        return self.add_raw(outcome_of(sample), sample.id, values, sample.model_usage,
                            scores=scores, metadata=sample.metadata)

    def add_raw(
        self,
        outcome: Outcome,
        sample_id: Any,
        values: dict[str, Any],
        usage: dict[str, ModelUsage],
        *,
        scores: dict[str, Score] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Outcome:
        """Count a sample; ``scores`` and ``metadata`` are read only when ``keep_scores``."""
        self.counts[outcome] += 1
        for name, value in values.items():
            if isinstance(value, dict):
                for key, item in value.items():
                    self._add_value((name, str(key)), sample_id, item)
            else:
                self._add_value((name, None), sample_id, value)
        if self.keep_scores and scores:
            self._keep(sample_id, scores, metadata or {})
        for model, used in usage.items():
            current = self.usage.get(model)
            self.usage[model] = used if current is None else current + used
        return outcome

    def _add_value(self, column: Column, sample_id: Any, value: Any) -> None:
        number = as_number(value)
        if self.epochs == 1:
            self.flat[column].append(number)
        else:
            # by str: a retry may carry id 1 from a log and re-run it as "1"
            self.values[column][str(sample_id)].append(number)

    def _keep(self, sample_id: Any, scores: dict[str, Score], metadata: dict[str, Any]) -> None:
        keys = self._metadata_keys
        kept_metadata = metadata if keys is None else {k: metadata[k] for k in keys
                                                       if k in metadata}
        for name, score in scores.items():
            answer, extra = (score.answer, score.metadata) if self._whole else (None, None)
            if isinstance(score.value, dict):
                for key, item in score.value.items():
                    self.kept[(name, str(key))].append(
                        _Kept(sample_id, item, answer, extra, kept_metadata))
            else:
                self.kept[(name, None)].append(
                    _Kept(sample_id, score.value, answer, extra, kept_metadata))

    @property
    def errors(self) -> int:
        return self.counts["error"]

    @property
    def finished(self) -> int:
        return sum(self.counts.values()) - self.counts["cancelled"]

    def results(self) -> EvalResults:
        return EvalResults(
            total_samples=self.total,
            completed_samples=self.counts["completed"] + self.counts["limited"],
            errored_samples=self.counts["error"],
            limited_samples=self.counts["limited"],
            cancelled_samples=self.counts["cancelled"],
            scores=[score for scorer in self.scoring.scorers for score in self._scores(scorer)],
        )

    def _scores(self, scorer: Scorer) -> list[EvalScore]:
        name = scorer_name(scorer)
        columns = sorted({c for c in [*self.flat, *self.values, *self.kept] if c[0] == name},
                         key=lambda c: (c[1] is not None, c[1] or ""))
        if any(key is not None for _, key in columns):
            columns = [c for c in columns if c[1] is not None]  # a dict scorer's NaN: no key
        columns = columns or [(name, None)]
        reducers: Sequence[ScoreReducer | None] = (
            self.scoring.reducers if self.epochs > 1 else [None])
        metadata = scorer_metadata(scorer) or None
        return [self._score(column, reducer, len(reducers) > 1, self.scoring.spec(scorer),
                            metadata)
                for reducer in reducers for column in columns]

    def _score(self, column: Column, reducer: ScoreReducer | None, named: bool,
               spec: MetricSpec, metadata: dict[str, Any] | None) -> EvalScore:
        scorer, key = column
        numbers = self._numbers(column, reducer)
        samples: list[SampleScore] | None = None
        metrics: dict[str, EvalMetric] = {}
        for metric in metrics_for(spec, key or scorer):
            core = float_core(metric)
            if reducer is not None and unreduced(metric):  # every epoch's score
                found = evaluate(metric, self._samples(column, None))
            elif core is not None and numbers is not None:
                found = {metric_name(metric): numeric_value(core, numbers)}
            else:
                samples = samples if samples is not None else self._samples(column, reducer)
                found = evaluate(metric, samples)
            _warn_name_clash(scorer, metrics, found)
            metrics.update({n: EvalMetric(name=n, value=v) for n, v in found.items()})
        if numbers is None:
            samples = samples if samples is not None else self._samples(column, reducer)
            numbers = [as_number(s.score.value) for s in samples]
        kept = len(scored(numbers))
        return EvalScore(name=key or scorer, scorer=scorer if key else None,
                         reducer=reducer_name(reducer) if reducer and named else None,
                         scored_samples=kept, unscored_samples=len(numbers) - kept,
                         metrics=metrics, metadata=metadata)

    def _numbers(self, column: Column, reducer: ScoreReducer | None) -> Sequence[float] | None:
        """Each sample's (reduced) number; None when the reducer needs whole scores."""
        if reducer is None:
            return self.flat.get(column, array("d"))
        core = reducer_core(reducer)
        if core is None:
            return None
        return [reduce_floats(core, epochs) for epochs in self.values.get(column, {}).values()]

    def _samples(self, column: Column, reducer: ScoreReducer | None) -> list[SampleScore]:
        """Each sample's (reduced) score, with its id and metadata, for a metric."""
        scorer, key = column
        label = scorer if key is None else key
        kept = self.kept.get(column, [])
        if reducer is None:
            return [sample_score(k.score, k.sample_id, k.metadata, label) for k in kept]
        by_sample: dict[str, list[_Kept]] = defaultdict(list)
        for item in kept:
            by_sample[str(item.sample_id)].append(item)
        samples = []
        for epochs in by_sample.values():
            ordered = sorted(epochs, key=lambda k: _sortable(k.value))
            reduced = reducer([k.score for k in ordered])
            samples.append(sample_score(reduced, epochs[0].sample_id, epochs[0].metadata, label))
        return samples


def _sortable(value: Any) -> tuple[int, float, str]:
    """An order over score values (numbers first), so reducers see epochs the same way
    whatever order they finished in."""
    number = as_number(value)
    return (0, number, "") if number == number else (1, 0.0, repr(value))


def _warn_name_clash(scorer: str, metrics: dict[str, EvalMetric], found: dict[str, Any]) -> None:
    """Two metrics of one scorer with one name (``stderr()`` and ``stderr(cluster=...)``):
    only the later value can be kept, so say so rather than lose one silently."""
    for name in found.keys() & metrics.keys():
        warnings.warn(f"scorer {scorer!r} has two metrics named {name!r}; only the last one's "
                      "value is kept: give one a name of its own (@metric(name=...))",
                      UserWarning, stacklevel=2)
