"""The scorer protocol and ``@scorer``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from ..dataset import Target
from ..solver import TaskState
from ._metric import MetricSpec
from ._score import Score


class Scorer(Protocol):
    async def __call__(self, state: TaskState, target: Target) -> Score: ...


ScorerFactory = TypeVar("ScorerFactory", bound=Callable[..., Scorer])


def scorer(
    metrics: MetricSpec, name: str | None = None, **metadata: Any
) -> Callable[[ScorerFactory], ScorerFactory]:
    """Mark a factory of scorers, naming the metrics computed from their scores.

    ``metrics`` is a list of metrics, or for dict-valued scores a dict of key (a
    glob such as ``"*"``) to metrics, or a list mixing both. Other keywords are the
    scorer's metadata (Inspect's ``**metadata``): kept on each scorer made
    (``scorer_metadata()``) and written with its results in the log.
    """

    def decorate(factory: ScorerFactory) -> ScorerFactory:
        scorer_name = name or factory.__name__

        @functools.wraps(factory)
        def make(*args: Any, **kwargs: Any) -> Scorer:
            made = factory(*args, **kwargs)
            if not _is_async(made):  # Inspect's check: fail here, not once per sample
                raise TypeError(f"scorer {scorer_name!r} is not declared as an async callable; "
                                "make its score function `async def score(state, target)`")
            made.__evalkit_name__ = scorer_name  # type: ignore[attr-defined]  # results key
            made.__evalkit_metrics__ = metrics  # type: ignore[attr-defined]  # read by runner
            made.__evalkit_metadata__ = dict(metadata)  # type: ignore[attr-defined]
            return made

        make.__evalkit_metadata__ = dict(metadata)  # type: ignore[attr-defined]  # the factory's too
        return cast(ScorerFactory, make)

    return decorate


def _is_async(made: object) -> bool:
    """Whether calling ``made`` gives a coroutine (a function, partial or object)."""
    while isinstance(made, functools.partial):
        made = made.func
    # An object whose __call__ is async (type(made).__call__, as Python calls it).
    return inspect.iscoroutinefunction(made) or inspect.iscoroutinefunction(
        type(made).__call__)


def scorer_name(scorer: Scorer) -> str:
    return str(getattr(scorer, "__evalkit_name__", getattr(scorer, "__name__", "scorer")))


def scorer_metrics(scorer: Scorer) -> MetricSpec:
    metrics: MetricSpec = getattr(scorer, "__evalkit_metrics__", [])
    return metrics


def scorer_metadata(scorer: Scorer) -> dict[str, Any]:
    """The metadata given to ``@scorer(...)`` beyond ``metrics`` and ``name`` (a copy)."""
    metadata: dict[str, Any] = getattr(scorer, "__evalkit_metadata__", {})
    return dict(metadata)
