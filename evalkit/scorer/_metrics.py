"""Metrics over the scores of many samples, and epoch reducers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence

from ..errors import UsageError

Metric = Callable[[Sequence[float]], float]
"""Turns the numeric scores of every scored sample into one number."""


def _named(name: str, fn: Callable[[Sequence[float]], float]) -> Metric:
    fn.__evalkit_name__ = name  # type: ignore[attr-defined]  # the metric's name in results
    return fn


def metric_name(metric: Metric) -> str:
    return str(getattr(metric, "__evalkit_name__", getattr(metric, "__name__", "metric")))


def accuracy() -> Metric:
    """The mean of the scores (C=1, I=0, P=0.5)."""
    return _named("accuracy", lambda values: statistics.fmean(values) if values else 0.0)


def mean() -> Metric:
    """The mean of the numeric scores."""
    return _named("mean", lambda values: statistics.fmean(values) if values else 0.0)


def stderr() -> Metric:
    """The standard error of the mean."""

    def compute(values: Sequence[float]) -> float:
        if len(values) < 2:
            return 0.0
        return statistics.stdev(values) / math.sqrt(len(values))

    return _named("stderr", compute)


Reducer = Callable[[Sequence[float]], float]

REDUCERS: dict[str, Reducer] = {
    "mean": statistics.fmean,
    "median": statistics.median,
    "max": max,
    "min": min,
    "mode": lambda values: statistics.mode(values),
}


def get_reducer(name: str) -> Reducer:
    """The epoch reducer called ``name``."""
    if name not in REDUCERS:
        raise UsageError(f"unknown epochs reducer {name!r}; choose one of {', '.join(REDUCERS)}")
    return REDUCERS[name]
