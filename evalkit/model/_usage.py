"""What the running sample uses: its token usage per model (drives ``token_limit``)
and the model it is evaluated with (a grader may reuse it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from ._output import ModelUsage

if TYPE_CHECKING:
    from ._model import Model


class SampleUsage:
    """Usage summed over one sample's model calls, keyed by model name."""

    def __init__(self) -> None:
        self.by_model: dict[str, ModelUsage] = {}

    def add(self, model: str, usage: ModelUsage) -> None:
        current = self.by_model.get(model)
        self.by_model[model] = usage if current is None else current + usage

    @property
    def total_tokens(self) -> int:
        return sum(usage.total_tokens for usage in self.by_model.values())


_current: ContextVar[SampleUsage | None] = ContextVar("evalkit_sample_usage", default=None)
_active_model: ContextVar[Model | None] = ContextVar("evalkit_active_model", default=None)


def active_model() -> Model | None:
    """The model the running sample is evaluated with (None outside a sample)."""
    return _active_model.get()


@contextmanager
def bind_active_model(model: Model) -> Iterator[Model]:
    token = _active_model.set(model)
    try:
        yield model
    finally:
        _active_model.reset(token)


def sample_usage() -> SampleUsage | None:
    return _current.get()


@contextmanager
def bind_sample_usage(usage: SampleUsage) -> Iterator[SampleUsage]:
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)
