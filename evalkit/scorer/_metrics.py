"""Built-in metrics: ``accuracy``, ``mean``, ``var``, ``std``, ``stderr``, ``bootstrap_stderr``.

Each is a ``Metric`` over ``list[SampleScore]`` (Inspect's protocol) carrying its
numeric core, which sees the scored values sorted (see ``_metric``).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence

from ._clustered import clustered_stderr
from ._metric import Metric, float_metric, format_metric, is_unscored, metric_name, scored
from ._score import ValueToFloat, score_to_float

__all__ = ["accuracy", "bootstrap_stderr", "format_metric", "is_unscored", "mean",
           "metric_name", "scored", "std", "stderr", "var"]


def _mean(values: Sequence[float]) -> float:
    if math.inf in values and -math.inf in values:
        return math.nan  # inf - inf; fsum would raise
    return statistics.fmean(values)  # exactly rounded (fsum): the same in any order


def _var(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    if not all(math.isfinite(value) for value in values):
        return math.nan  # the spread around an infinite mean is not a number
    return statistics.variance(values)


def _std(values: Sequence[float]) -> float:
    return math.sqrt(_var(values))


def _stderr(values: Sequence[float]) -> float:
    return _std(values) / math.sqrt(len(values))


def accuracy(to_float: ValueToFloat = score_to_float) -> Metric:
    """The share of correct answers (C=1, I=0, P=0.5): the mean of the scores."""
    return float_metric("accuracy", _mean, to_float)


def mean() -> Metric:
    """The mean of the numeric scores."""
    return float_metric("mean", _mean)


def var(to_float: ValueToFloat = score_to_float) -> Metric:
    """The sample variance of the scores (n - 1 in the denominator; 0 for one score)."""
    return float_metric("var", _var, to_float)


def std(to_float: ValueToFloat = score_to_float) -> Metric:
    """The sample standard deviation of the scores (0 for one score)."""
    return float_metric("std", _std, to_float)


def stderr(to_float: ValueToFloat = score_to_float, cluster: str | None = None) -> Metric:
    """The standard error of the mean (0 for one score).

    With ``cluster`` (a sample metadata key), the clustered standard error: samples
    sharing that metadata value are not independent (e.g. several questions on one
    passage), so the spread is taken over the clusters' summed deviations from the
    mean, with a C / (C - 1) correction for C clusters, over n samples, as Inspect
    computes it. Each sample needs the key in its metadata; fewer than two clusters
    give no value.
    """
    if cluster is None:
        return float_metric("stderr", _stderr, to_float)
    return clustered_stderr(cluster, to_float)


def bootstrap_stderr(num_samples: int = 1000, to_float: ValueToFloat = score_to_float,
                     ) -> Metric:
    """The standard deviation of the means of ``num_samples`` resamplings of the scores.

    The resampling is seeded and runs over the sorted values, so the same scores
    always give the same value.
    """

    def compute(values: Sequence[float]) -> float:
        if not all(math.isfinite(value) for value in values):
            return math.nan
        rng = random.Random(0)
        means = [statistics.fmean(rng.choices(values, k=len(values)))
                 for _ in range(num_samples)]
        return statistics.pstdev(means)

    return float_metric("bootstrap_stderr", compute, to_float)
