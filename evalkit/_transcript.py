"""Per-sample events: what the model saw and said, tool calls, limits, info.

The runner opens a :class:`Transcript` for each sample and binds it to a
context variable, so a model call or a solver anywhere below can add an event
without being handed the transcript.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Literal, Union

from pydantic import BaseModel, Field


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
    event: Literal["info"] = "info"
    data: Any = None


Event = Union[ModelEvent, ToolEvent, ScoreEvent, LimitEvent, ErrorEvent, InfoEvent]

RAW_OUTPUT_LIMIT = 4096
"""Bytes of a model's raw response kept in its event; longer text is truncated."""


class Transcript:
    """The events of one sample, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, event: Event) -> None:
        self.events.append(event)

    def info(self, data: Any) -> None:
        """Record a free-form note from a solver or scorer."""
        self.add(InfoEvent(data=data))


_current: ContextVar[Transcript | None] = ContextVar("evalkit_transcript", default=None)
_fallback = Transcript()


def transcript() -> Transcript:
    """The transcript of the sample running now (a throwaway one outside a sample)."""
    return _current.get() or _fallback


@contextmanager
def bind_transcript(active: Transcript) -> Iterator[Transcript]:
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)


def truncate_raw(text: str, limit: int = RAW_OUTPUT_LIMIT) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters, and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[:limit], True
