"""Epoch reducers (Inspect's protocol: ``list[Score]`` in, one ``Score`` out) and
``@score_reducer``.

A reducer sees only a sample's scored epochs (NaN/None left out), sorted, so
no result depends on the order the epochs finished; with no scored epoch the
sample is unscored (NaN). Dict-valued scores are reduced key by key.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, overload

from ..errors import UsageError
from ._metric import as_number, scored
from ._metrics import _mean
from ._naming import naming
from ._score import Score, ValueToFloat, score_to_float


class ScoreReducer(Protocol):
    """Turns the scores of one sample's epochs into one score."""

    def __call__(self, scores: list[Score]) -> Score: ...


ScoreReducers = str | ScoreReducer | Sequence[str | ScoreReducer]
"""What ``Epochs(reducer=)`` takes: one reducer or several, by name or made."""

FloatReducer = Callable[[Sequence[float]], float]
ReducerFactory = TypeVar("ReducerFactory", bound=Callable[..., ScoreReducer])


@overload
def score_reducer(factory: ReducerFactory, /) -> ReducerFactory: ...
@overload
def score_reducer(*, name: str | None = None) -> Callable[[ReducerFactory], ReducerFactory]: ...
def score_reducer(
    factory: ReducerFactory | None = None, /, *, name: str | None = None
) -> ReducerFactory | Callable[[ReducerFactory], ReducerFactory]:
    """Mark a factory of reducers; its name (or ``name``) names the reducer in the results."""
    decorated: ReducerFactory | Callable[[ReducerFactory], ReducerFactory] = naming(factory, name)
    return decorated


def float_reducer(name: str, fn: FloatReducer, to_float: ValueToFloat = score_to_float,
                  ) -> ScoreReducer:
    """A built-in reducer: ``fn`` over a sample's sorted scored epoch values (read by
    ``to_float``)."""

    def reduce(scores: list[Score]) -> Score:
        values = [score.value for score in scores]
        if values and all(isinstance(value, dict) for value in values):
            keys = sorted({key for value in values for key in value})  # type: ignore[union-attr]
            return Score(value={key: reduce_floats(fn, [as_number(v.get(key), to_float)  # type: ignore[union-attr]
                                                        for v in values]) for key in keys})
        return Score(value=reduce_floats(fn, [as_number(value, to_float) for value in values]))

    reduce.__evalkit_name__ = name  # type: ignore[attr-defined]  # results key
    if to_float is score_to_float:  # the tally reads numbers with score_to_float only
        reduce.__evalkit_floats__ = fn  # type: ignore[attr-defined]  # the tally's fast path
    return reduce


def reduce_floats(fn: FloatReducer, values: Sequence[float]) -> float:
    """``fn`` over the scored ``values``; NaN (unscored) when none is scored."""
    kept = scored(values)
    return float(fn(kept)) if kept else math.nan


def reducer_name(reducer: ScoreReducer) -> str:
    return str(getattr(reducer, "__evalkit_name__", getattr(reducer, "__name__", "reducer")))


def reducer_core(reducer: ScoreReducer) -> FloatReducer | None:
    core: FloatReducer | None = getattr(reducer, "__evalkit_floats__", None)
    return core


def _mode(values: Sequence[float]) -> float:
    counts = Counter(values)
    most = max(counts.values())
    return min(value for value, count in counts.items() if count == most)  # ties: the lowest


def mean_score(value_to_float: ValueToFloat = score_to_float) -> ScoreReducer:
    """The mean of the epochs' scores."""
    return float_reducer("mean", _mean, value_to_float)


def median_score(value_to_float: ValueToFloat = score_to_float) -> ScoreReducer:
    """The median of the epochs' scores."""
    return float_reducer("median", statistics.median, value_to_float)


def mode_score() -> ScoreReducer:
    """The most common of the epochs' scores (ties: the lowest), as the epoch gave it
    (e.g. ``"C"``)."""
    return picking_reducer(float_reducer("mode", _mode), score_to_float)


def max_score(value_to_float: ValueToFloat = score_to_float) -> ScoreReducer:
    """The highest of the epochs' scores, as the epoch gave it (e.g. ``"C"``)."""
    return picking_reducer(float_reducer("max", max, value_to_float), value_to_float)


def min_score(value_to_float: ValueToFloat = score_to_float) -> ScoreReducer:
    """The lowest of the epochs' scores, as the epoch gave it (e.g. ``"I"``)."""
    return picking_reducer(float_reducer("min", min, value_to_float), value_to_float)


def picking_reducer(numeric: ScoreReducer, to_float: ValueToFloat) -> ScoreReducer:
    """``numeric``, giving back the epoch's own value that has the number it picks
    (Inspect's max and mode keep a value such as ``"C"``; metrics read the same number)."""

    def reduce(scores: list[Score]) -> Score:
        picked = numeric(scores).value
        if isinstance(picked, dict):
            return Score(value={key: _own_value(number, [s.value.get(key)  # type: ignore[union-attr]
                                                         for s in scores], to_float)
                                for key, number in picked.items()})
        return Score(value=_own_value(picked, [s.value for s in scores], to_float))

    reduce.__dict__.update(numeric.__dict__)  # its name and the tally's fast path
    return reduce


def _own_value(number: Any, values: list[Any], to_float: ValueToFloat) -> Any:
    """The first of ``values`` that reads as ``number`` (``number`` itself if none does)."""
    return next((value for value in values if as_number(value, to_float) == number), number)


def at_least(k: int, value: float = 1.0, value_to_float: ValueToFloat = score_to_float,
             ) -> ScoreReducer:
    """1 when at least ``k`` epochs scored ``value`` or more, else 0."""

    def reduce(values: Sequence[float]) -> float:
        return 1.0 if sum(1 for v in values if v >= value) >= k else 0.0

    return float_reducer(f"at_least_{k}", reduce, value_to_float)


def pass_at(k: int, value: float = 1.0, value_to_float: ValueToFloat = score_to_float,
            ) -> ScoreReducer:
    """The chance that at least one of ``k`` epochs drawn from the sample's epochs scored
    ``value`` or more (the unbiased pass@k estimator of Chen et al., 2021)."""

    def reduce(values: Sequence[float]) -> float:
        total, passed = len(values), sum(1 for v in values if v >= value)
        if passed == 0:
            return 0.0
        if total - passed < k:
            return 1.0
        return 1.0 - math.comb(total - passed, k) / math.comb(total, k)

    return float_reducer(f"pass_at_{k}", reduce, value_to_float)


_BY_NAME: dict[str, Callable[[], ScoreReducer]] = {
    "mean": mean_score, "median": median_score, "mode": mode_score,
    "max": max_score, "min": min_score,
}


def get_reducer(name: str) -> ScoreReducer:
    """The epoch reducer called ``name`` (mean, median, mode, max, min, at_least_K, pass_at_K)."""
    if name in _BY_NAME:
        return _BY_NAME[name]()
    for prefix, factory in (("at_least_", at_least), ("pass_at_", pass_at)):
        if name.startswith(prefix) and name[len(prefix):].isdigit():
            return factory(int(name[len(prefix):]))
    raise UsageError(f"unknown epochs reducer {name!r}; choose one of {', '.join(_BY_NAME)}, "
                     "at_least_K or pass_at_K")


def create_reducers(reducer: ScoreReducers | None) -> list[ScoreReducer]:
    """The reducers ``reducer`` names (default: mean), made."""
    if reducer is None:
        return [mean_score()]
    items = [reducer] if isinstance(reducer, str) or callable(reducer) else list(reducer)
    made = [get_reducer(item) if isinstance(item, str) else item for item in items]
    if not made:
        raise UsageError("Epochs(reducer=[]) names no reducer; give at least one, e.g. 'mean'")
    return made
