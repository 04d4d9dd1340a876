"""Per-sample events: what the model saw and said, tool calls, limits, info.

The runner opens a :class:`Transcript` for each sample and binds it to a
context variable, so a model call or a solver anywhere below can add an event
without being handed the transcript.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_jsonable_python

from ._util._context import bound


class BaseEvent(BaseModel):
    timestamp: float = Field(default_factory=time.time)


class ModelEvent(BaseEvent):
    """One model call, with its retries."""

    event: Literal["model"] = "model"
    model: str
    input_messages: int
    output: str | None = None
    raw: str | None = None
    truncated: bool = False
    usage: dict[str, int] | None = None
    latency: float | None = None
    retries: list[str] = Field(default_factory=list)
    error: str | None = None


class ToolEvent(BaseEvent):
    """One tool call the model asked for."""

    event: Literal["tool"] = "tool"
    function: str
    arguments: dict[str, Any]
    result: str | None = None
    error: str | None = None
    duration: float | None = None


class ScoreEvent(BaseEvent):
    event: Literal["score"] = "score"
    scorer: str
    value: Any = None


class LimitEvent(BaseEvent):
    event: Literal["limit"] = "limit"
    type: str
    limit: float
    message: str


class ErrorEvent(BaseEvent):
    event: Literal["error"] = "error"
    message: str
    phase: str


class InfoEvent(BaseEvent):
    """A note a solver or scorer added with ``transcript().info(...)``."""

    event: Literal["info"] = "info"
    data: Any = None
    source: str | None = None


Event = ModelEvent | ToolEvent | ScoreEvent | LimitEvent | ErrorEvent | InfoEvent

RAW_OUTPUT_LIMIT = 4096
"""Characters of a model's raw response kept in its event; the rest is cut off
and the event's ``truncated`` flag set."""


class Transcript:
    """The events of one sample, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, event: Event) -> None:
        self.events.append(event)

    def info(self, data: Any, *, source: str | None = None) -> None:
        """Record a free-form note (any JSON-able value) from a solver or scorer.

        Values JSON cannot hold are stored as their ``str()``, so a note can
        never stop the sample from being written.
        """
        self.add(InfoEvent(data=to_jsonable_python(data, fallback=str), source=source))


class _DiscardingTranscript(Transcript):
    """Outside a sample there is nowhere to record events: drop them, never pile up."""

    def add(self, event: Event) -> None:
        pass


_current: ContextVar[Transcript | None] = ContextVar("evalkit_transcript", default=None)
_fallback: Transcript = _DiscardingTranscript()


def transcript() -> Transcript:
    """The transcript of the sample running now (outside a sample, events are dropped)."""
    return _current.get() or _fallback


def bind_transcript(active: Transcript) -> AbstractContextManager[Transcript]:
    """Make ``active`` the transcript of the code run inside the ``with`` block."""
    return bound(_current, active)


def truncate_raw(text: str, limit: int = RAW_OUTPUT_LIMIT) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit], True
