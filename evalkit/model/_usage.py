"""Token usage of the sample running now, per model (drives ``token_limit``)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar

from .._util._context import bound
from ._output import ModelUsage


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


def sample_usage() -> SampleUsage | None:
    return _current.get()


def bind_sample_usage(usage: SampleUsage) -> AbstractContextManager[SampleUsage]:
    """Count the usage of model calls made inside the ``with`` block into ``usage``."""
    return bound(_current, usage)
