"""Metrics over the scores of many samples, and epoch reducers.

A NaN or None score is *unscored* (as in Inspect AI): ``scored()`` drops such
values, and every metric and reducer sees only what it returns, sorted, so
no result depends on the order in which samples or epochs finished. A metric
over no scored value has no value (``None``); a reducer over no scored epoch
gives NaN, which makes the sample itself unscored.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from ..errors import UsageError

Metric = Callable[[Sequence[float]], float | None]
"""Turns the numeric scores of the scored samples into one number (None: no value)."""

Reducer = Callable[[Sequence[float]], float]
"""Turns the numeric scores of one sample's epochs into one (NaN: unscored)."""


def is_unscored(value: object) -> bool:
    """Whether a score value means "no score": None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def scored(values: Iterable[float | None]) -> list[float]:
    """The scored values, in ascending order: what every metric and reducer sees."""
    # Inline test (NaN != NaN): this runs over every sample's value at the end of a run.
    return sorted([value for value in values if value is not None and value == value])


def metric_value(metric: Metric, values: Iterable[float | None]) -> float | None:
    """``metric`` over the scored values; None when there are none or the result is NaN."""
    kept = scored(values)
    if not kept:
        return None
    result = metric(kept)
    return None if result is None or math.isnan(result) else float(result)


def format_metric(value: float | None) -> str:
    """A metric value for people: three decimals, ``inf``, or ``n/a`` for no value."""
    return "n/a" if value is None else f"{value:.3f}"


def _named(name: str, fn: Callable[[Sequence[float]], float]) -> Metric:
    def compute(values: Sequence[float]) -> float | None:
        return metric_value(fn, values)

    compute.__evalkit_name__ = name  # type: ignore[attr-defined]  # the metric's name in results
    return compute


def metric_name(metric: Metric) -> str:
    return str(getattr(metric, "__evalkit_name__", getattr(metric, "__name__", "metric")))


def _mean(values: Sequence[float]) -> float:
    if math.inf in values and -math.inf in values:
        return math.nan  # inf - inf; fsum would raise
    return statistics.fmean(values)  # exactly rounded (fsum): the same in any order


def _stderr(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    if not all(math.isfinite(value) for value in values):
        return math.nan  # the spread around an infinite mean is not a number
    return statistics.stdev(values) / math.sqrt(len(values))


def accuracy() -> Metric:
    """The mean of the scores (C=1, I=0, P=0.5)."""
    return _named("accuracy", _mean)


def mean() -> Metric:
    """The mean of the numeric scores."""
    return _named("mean", _mean)


def stderr() -> Metric:
    """The standard error of the mean."""
    return _named("stderr", _stderr)


def _mode(values: Sequence[float]) -> float:
    counts = Counter(values)
    most = max(counts.values())
    return min(value for value, count in counts.items() if count == most)  # ties: the lowest


def _reducer(fn: Callable[[Sequence[float]], float]) -> Reducer:
    def reduce(values: Sequence[float]) -> float:
        kept = scored(values)
        return float(fn(kept)) if kept else math.nan

    return reduce


REDUCERS: dict[str, Reducer] = {
    "mean": _reducer(_mean),
    "median": _reducer(statistics.median),
    "max": _reducer(max),
    "min": _reducer(min),
    "mode": _reducer(_mode),
}


def get_reducer(name: str) -> Reducer:
    """The epoch reducer called ``name``."""
    if name not in REDUCERS:
        raise UsageError(f"unknown epochs reducer {name!r}; choose one of {', '.join(REDUCERS)}")
    return REDUCERS[name]
