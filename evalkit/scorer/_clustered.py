"""``stderr(cluster=...)``: the standard error of the mean when samples come in clusters.

Samples sharing a cluster (several questions about one passage, one task in
several phrasings) are not independent, so the plain standard error understates
the uncertainty. The clustered estimate (a sandwich estimator for the mean, see
Miller 2024, "Adding Error Bars to Evals", appendix A) replaces the sum of
squared deviations by the sum over clusters of the squared *summed* deviations,
with the finite-cluster factor C / (C - 1):

    se = sqrt(C / (C - 1) * sum_c (sum_{i in c} (x_i - mean))^2) / n
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from ._metric import Metric, as_number
from ._score import SampleScore, Value, ValueToFloat


def clustered_stderr(cluster: str, to_float: ValueToFloat) -> Metric:
    """The clustered standard error over the clusters named by ``sample_metadata[cluster]``."""

    def compute(scores: list[SampleScore]) -> Value:
        by_cluster: dict[str, list[float]] = defaultdict(list)
        for score in scores:
            metadata = score.sample_metadata or {}
            if cluster not in metadata:
                raise ValueError(f"sample {score.sample_id!r} has no metadata {cluster!r}; "
                                 f"stderr(cluster={cluster!r}) needs it on every sample")
            number = as_number(score.score.value, to_float)
            if number == number:  # text to_float cannot read is unscored, as elsewhere
                by_cluster[repr(metadata[cluster])].append(number)
        values = [value for members in by_cluster.values() for value in members]
        count = len(by_cluster)
        if count < 2:
            raise ValueError(f"stderr(cluster={cluster!r}) needs at least 2 clusters, "
                             f"got {count}")
        if not all(math.isfinite(value) for value in values):
            return math.nan
        mean = statistics.fmean(values)
        spread = math.fsum(math.fsum(v - mean for v in members) ** 2
                           for members in by_cluster.values())
        return math.sqrt(spread * count / (count - 1)) / len(values)

    compute.__evalkit_name__ = "stderr"  # type: ignore[attr-defined]  # results key
    compute.__evalkit_metadata_keys__ = frozenset({cluster})  # type: ignore[attr-defined]
    return compute
