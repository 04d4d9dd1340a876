"""``grouped(metric, group_key)``: a metric per value of a sample metadata field."""

from __future__ import annotations

import math
import statistics
from typing import Literal

from ._metric import Metric, evaluate, metric_name
from ._score import SampleScore, Value, ValueToFloat, score_to_float


def grouped(
    metric: Metric,
    group_key: str,
    *,
    all: Literal["samples", "groups"] | Literal[False] = "samples",  # Inspect's name
    all_label: str = "all",
    value_to_float: ValueToFloat = score_to_float,
) -> Metric:
    """``metric`` over each group of samples sharing ``sample_metadata[group_key]``.

    Gives one value per group, named by the group, and ``all_label``: ``metric``
    over every sample (``all="samples"``), the mean of the group values
    (``"groups"``), or nothing (``False``). A sample without ``group_key`` in its
    metadata is an error naming it.
    """
    del value_to_float  # the inner metric reads the values itself

    def compute(scores: list[SampleScore]) -> Value:
        groups: dict[str, list[SampleScore]] = {}
        for score in scores:
            metadata = score.sample_metadata or {}
            if group_key not in metadata:
                raise ValueError(f"sample {score.sample_id!r} has no metadata {group_key!r} "
                                 "to group by")
            groups.setdefault(str(metadata[group_key]), []).append(score)
        values: dict[str, float | None] = {
            group: evaluate(metric, members)[metric_name(metric)]
            for group, members in sorted(groups.items())
        }
        if all == "samples":
            values[all_label] = evaluate(metric, scores)[metric_name(metric)]
        elif all == "groups":
            known = [value for value in values.values() if value is not None]
            values[all_label] = statistics.fmean(known) if known else None
        return {group: math.nan if value is None else value for group, value in values.items()}

    compute.__evalkit_name__ = f"grouped_{metric_name(metric)}"  # type: ignore[attr-defined]
    compute.__evalkit_metadata_keys__ = frozenset({group_key})  # type: ignore[attr-defined]
    return compute
