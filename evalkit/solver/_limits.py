"""Per-sample limits: messages, tokens and wall-clock time of the solver."""

from __future__ import annotations

from dataclasses import dataclass

import anyio

from .._transcript import LimitEvent, transcript
from ..errors import LimitExceeded, UsageError
from ..model._usage import sample_usage
from ._solver import Generate, Solver
from ._state import TaskState


@dataclass(frozen=True)
class SampleLimits:
    """The limits one sample runs under; ``None`` means no limit."""

    messages: int | None = None
    tokens: int | None = None
    time: float | None = None

    def __post_init__(self) -> None:
        for name, flag, value, kinds, what in (
            ("max_messages", "--max-messages", self.messages, (int,), "a whole number >= 1"),
            ("token_limit", "--token-limit", self.tokens, (int,), "a whole number >= 1"),
            ("time_limit", "--time-limit", self.time, (int, float), "a number of seconds > 0"),
        ):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
                raise UsageError(
                    f"{name} ({flag}) must be {what}, got {value!r}; leave it out (None) "
                    "for no limit"
                )


def check_messages(state: TaskState, limits: SampleLimits) -> None:
    """Raise ``LimitExceeded`` once the conversation holds ``limits.messages``."""
    if limits.messages is not None and len(state.messages) >= limits.messages:
        raise LimitExceeded("messages", limits.messages, len(state.messages))


def check_tokens(limits: SampleLimits) -> None:
    """Raise ``LimitExceeded`` once the sample's model calls used ``limits.tokens``."""
    usage = sample_usage()
    if limits.tokens is not None and usage is not None and usage.total_tokens >= limits.tokens:
        raise LimitExceeded("tokens", limits.tokens, usage.total_tokens)


async def solve_within_limits(
    solver: Solver, state: TaskState, generate: Generate, limits: SampleLimits
) -> tuple[TaskState, LimitExceeded | None]:
    """Run ``solver``; a limit hit ends it and returns the state as it stands."""
    hit: LimitExceeded | None = None
    try:
        with anyio.move_on_after(limits.time) as scope:
            state = await solver(state, generate)
        if scope.cancelled_caught:
            assert limits.time is not None  # only a time limit sets this deadline
            hit = LimitExceeded("time", limits.time)
    except LimitExceeded as exc:
        hit = exc
    if hit is not None:
        transcript().add(LimitEvent(type=hit.type, limit=hit.limit, message=str(hit)))
    return state, hit
