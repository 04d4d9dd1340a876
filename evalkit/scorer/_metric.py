"""The metric protocol (Inspect's: a function of ``list[SampleScore]``) and ``@metric``.

A NaN or None score is *unscored*: no metric sees it. Metrics see the scored
samples sorted by sample id, so no result depends on the order in which they
finished; built-in metrics also carry a function over the sorted numbers,
which the results tally calls directly (no ``SampleScore`` per sample). A
metric over no scored sample has no value (``None``).
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import (
    Any,
    Literal,
    Protocol,
    TypeVar,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    overload,
)

from ._naming import naming
from ._score import SampleScore, Score, Value, ValueToFloat, score_to_float

logger = logging.getLogger(__name__)


class Metric(Protocol):
    """Turns the scores of the scored samples into a value (a number, or a dict of them)."""

    def __call__(self, scores: list[SampleScore]) -> Value: ...


MetricProtocol = Metric
"""Inspect's name for the ``list[SampleScore]`` metric protocol (``Metric`` here)."""

FloatMetric = Callable[[Sequence[float]], float]
"""A built-in metric's numeric core: sorted scored numbers in, a number out."""

MetricSpec = Sequence[Metric | Mapping[str, Sequence[Metric]]] | Mapping[str, Sequence[Metric]]
"""What ``@scorer(metrics=)`` and ``Task(metrics=)`` take: a list of metrics (for every
score key), a dict of score key (a glob, e.g. ``"*"``) to metrics, or a list mixing both."""

MetricFactory = TypeVar("MetricFactory", bound=Callable[..., Metric])


def is_unscored(value: object) -> bool:
    """Whether a score value means "no score": None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def scored(values: Iterable[float | None]) -> list[float]:
    """The scored values, in ascending order: what every numeric metric and reducer sees."""
    # Inline test (NaN != NaN): this runs over every sample's value at the end of a run.
    return sorted([value for value in values if value is not None and value == value])


def as_number(value: Any, to_float: ValueToFloat = score_to_float) -> float:
    """A score value as a float read by ``to_float``; NaN when unscored or not a
    number (free text)."""
    if is_unscored(value):
        return math.nan
    try:
        return to_float(value)
    except ValueError:
        return math.nan


def format_metric(value: float | None) -> str:
    """A metric value for people: three decimals, ``inf``, or ``n/a`` for no value."""
    return "n/a" if value is None else f"{value:.3f}"


MetricScores = Literal["auto", "reduced", "unreduced"]
"""Which scores a metric sees when a task runs several epochs (Inspect's): ``"auto"``
and ``"reduced"`` one reduced score per sample, ``"unreduced"`` one per sample and epoch."""


@overload
def metric(factory: MetricFactory, /) -> MetricFactory: ...
@overload
def metric(name: str | None = None, /, *, scores: MetricScores = "auto",
           ) -> Callable[[MetricFactory], MetricFactory]: ...
@overload
def metric(*, name: str | None = None, scores: MetricScores = "auto",
           ) -> Callable[[MetricFactory], MetricFactory]: ...
def metric(
    factory: MetricFactory | str | None = None, /, *, name: str | None = None,
    scores: MetricScores = "auto",
) -> MetricFactory | Callable[[MetricFactory], MetricFactory]:
    """Mark a factory of metrics; its name (or ``name``) names the metric in the results.

    As in Inspect, the name may also be given first: ``@metric("share")``; and
    ``scores="unreduced"`` gives the metric every epoch's score of every sample
    instead of each sample's reduced score.
    """
    if isinstance(factory, str):
        factory, name = None, factory
    if scores not in ("auto", "reduced", "unreduced"):
        raise ValueError(f"@metric(scores={scores!r}): choose 'auto', 'reduced' or 'unreduced'")

    def decorate(made_by: MetricFactory) -> MetricFactory:
        named: MetricFactory = naming(made_by, name)
        if scores != "unreduced":
            return named

        @functools.wraps(named)
        def make(*args: Any, **kwargs: Any) -> Metric:
            made = named(*args, **kwargs)
            made.__evalkit_unreduced__ = True  # type: ignore[attr-defined]  # read by the tally
            return made

        return cast(MetricFactory, make)

    return decorate(factory) if factory is not None else decorate


def unreduced(metric: Metric) -> bool:
    """Whether ``metric`` sees every epoch's score (``@metric(scores="unreduced")``)."""
    return bool(getattr(metric, "__evalkit_unreduced__", False))


def float_metric(name: str, fn: FloatMetric, to_float: ValueToFloat = score_to_float) -> Metric:
    """A built-in metric: ``fn`` over the sorted scored numbers (score values read by
    ``to_float``), callable on SampleScores."""

    def compute(scores: list[SampleScore]) -> Value:
        value = numeric_value(fn, [as_number(s.score.value, to_float) for s in scores])
        return math.nan if value is None else value

    compute.__evalkit_name__ = name  # type: ignore[attr-defined]  # results key
    if to_float is score_to_float:  # the tally reads numbers with score_to_float only
        compute.__evalkit_floats__ = fn  # type: ignore[attr-defined]  # the tally's fast path
    return compute


def numeric_value(fn: FloatMetric, values: Iterable[float | None]) -> float | None:
    """``fn`` over the scored values; None when there are none or the result is NaN."""
    kept = scored(values)
    if not kept:
        return None
    result = fn(kept)
    return None if result is None or math.isnan(result) else float(result)


def metric_name(metric: Metric) -> str:
    return str(getattr(metric, "__evalkit_name__", getattr(metric, "__name__", "metric")))


def float_core(metric: Metric) -> FloatMetric | None:
    """The numeric core of a built-in metric; None for one that needs whole scores."""
    core: FloatMetric | None = getattr(metric, "__evalkit_floats__", None)
    return core


def metadata_keys(metric: Metric) -> frozenset[str] | None:
    """The sample metadata keys ``metric`` reads (None: it may read any)."""
    if float_core(metric) is not None:
        return frozenset()
    keys: frozenset[str] | None = getattr(metric, "__evalkit_metadata_keys__", None)
    return keys


def metrics_for(spec: MetricSpec, key: str) -> list[Metric]:
    """The metrics ``spec`` gives to the score called ``key`` (a dict score's key, or
    the scorer's name for a plain score)."""
    found: list[Metric] = []
    for item in [spec] if isinstance(spec, Mapping) else spec:
        if isinstance(item, Mapping):
            for pattern, metrics in item.items():
                if fnmatchcase(key, pattern):
                    found.extend(metrics)
        else:
            found.append(item)
    return found


def all_metrics(spec: MetricSpec) -> list[Metric]:
    """Every metric named anywhere in ``spec``."""
    found: list[Metric] = []
    for item in [spec] if isinstance(spec, Mapping) else spec:
        if isinstance(item, Mapping):
            found.extend(m for metrics in item.values() for m in metrics)
        else:
            found.append(item)
    return found


def evaluate(metric: Metric, scores: list[SampleScore]) -> dict[str, float | None]:
    """``metric`` over the scored ``scores`` (sorted by sample id), by result name.

    A metric returning a dict gives one result per key (``grouped`` does). A metric
    that raises gives no value, with a warning: one metric's bug does not lose a run.
    """
    name = metric_name(metric)
    kept = sorted((s for s in scores if not is_unscored(s.score.value)), key=_sample_order)
    if not kept:
        return {name: None}
    try:
        result = call_metric(metric, kept)
    except Exception as exc:  # a user metric's bug: report it, keep the other results
        logger.warning("metric %s failed: %s: %s", name, type(exc).__name__, exc)
        return {name: None}
    if isinstance(result, Mapping):
        return {str(key): _number(value) for key, value in result.items()}
    return {name: _number(result)}


def call_metric(metric: Metric, scores: list[SampleScore]) -> Value:
    """``metric`` over ``scores``; a metric of Inspect's older form gets the bare
    ``Score``s instead, with a warning (shown once per metric), as Inspect does."""
    if not takes_bare_scores(metric):
        return metric(scores)
    warnings.warn(f"metric {metric_name(metric)} is not annotated to take list[SampleScore], "
                  "so it gets Inspect's older list[Score]; annotate it `scores: "
                  "list[SampleScore]` (each one's .score is the Score)",
                  FutureWarning, stacklevel=2)
    return metric([s.score for s in scores])  # type: ignore[misc]  # the older form


def takes_bare_scores(metric: Metric) -> bool:
    """Whether ``metric`` has Inspect's older form, ``list[Score]`` in.

    Inspect's rule: a metric whose first parameter is annotated ``list[Score]``, or
    has no parameter or no usable annotation, gets bare ``Score``s; any other (e.g.
    ``list[SampleScore]``) gets ``SampleScore``s, as does one whose annotations
    cannot be read.
    """
    if float_core(metric) is not None:
        return False  # a built-in
    try:
        first = next(iter(inspect.signature(metric).parameters.values()), None)
        hints = get_type_hints(metric)
    except (AttributeError, NameError, TypeError, ValueError):
        return False
    if first is None:
        return True
    hint = hints.get(first.name)
    if hint is None or hint is Any:
        return True
    return get_origin(hint) is list and get_args(hint) == (Score,)


def _sample_order(score: SampleScore) -> str:
    return str(score.sample_id)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def sample_score(score: Score, sample_id: Any, metadata: dict[str, Any] | None,
                 scorer: str | None) -> SampleScore:
    """A SampleScore built without validation (the tally builds one per sample)."""
    return SampleScore.model_construct(score=score, sample_id=sample_id,
                                       sample_metadata=metadata, scorer=scorer)
