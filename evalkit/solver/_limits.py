"""Per-sample limits: messages, tokens and wall-clock time of the solver.

While a sample's solver runs, its limits are *active* (a context variable, so
tasks a solver starts see them too): the conversation refuses to grow past
``max_messages`` however a solver grows it, and the first limit reached is
remembered, so it is recorded even if a solver catches ``LimitExceeded`` and
goes on. Scorers run after the solver, where no limit is active.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from .._transcript import LimitEvent, transcript
from .._util._context import bound
from ..errors import LimitExceeded, UsageError
from ..model._usage import sample_usage

if TYPE_CHECKING:
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


@dataclass
class ActiveLimits:
    """The limits of the solver running now, and the first one it reached."""

    limits: SampleLimits
    hit: LimitExceeded | None = None

    def reached(self, hit: LimitExceeded) -> LimitExceeded:
        """Remember ``hit`` if it is the first; return it for the caller to raise."""
        if self.hit is None:
            self.hit = hit
        return hit


_active: ContextVar[ActiveLimits | None] = ContextVar("evalkit_active_limits", default=None)


def _reached(hit: LimitExceeded) -> LimitExceeded:
    active = _active.get()
    return active.reached(hit) if active is not None else hit


def check_growth(before: int, after: int) -> None:
    """Raise ``LimitExceeded`` if the conversation would grow from ``before`` messages
    to ``after``, past the active ``max_messages`` (shrinking, or replacing, is free)."""
    active = _active.get()
    limit = active.limits.messages if active is not None else None
    if limit is not None and after > before and after > limit:
        raise _reached(LimitExceeded("messages", limit, after))


def check_messages(state: TaskState, limits: SampleLimits) -> None:
    """Raise ``LimitExceeded`` once the conversation holds ``limits.messages``."""
    if limits.messages is not None and len(state.messages) >= limits.messages:
        raise _reached(LimitExceeded("messages", limits.messages, len(state.messages)))


def check_tokens(limits: SampleLimits) -> None:
    """Raise ``LimitExceeded`` once the sample's model calls used ``limits.tokens``."""
    usage = sample_usage()
    if limits.tokens is not None and usage is not None and usage.total_tokens >= limits.tokens:
        raise _reached(LimitExceeded("tokens", limits.tokens, usage.total_tokens))


async def solve_within_limits(
    solver: Solver, state: TaskState, generate: Generate, limits: SampleLimits
) -> tuple[TaskState, LimitExceeded | None]:
    """Run ``solver``; a limit hit ends it and returns the state as it stands."""
    active = ActiveLimits(limits)
    with bound(_active, active):
        try:
            with anyio.move_on_after(limits.time) as scope:
                state = await solver(state, generate)
            if scope.cancelled_caught:
                assert limits.time is not None  # only a time limit sets this deadline
                active.reached(LimitExceeded("time", limits.time))
        except Exception as exc:
            hit = _only_limits(exc)
            if hit is None:
                raise
            active.reached(hit)
    if active.hit is not None:
        hit = active.hit
        transcript().add(LimitEvent(type=hit.type, limit=hit.limit, message=str(hit)))
    return state, active.hit


def _only_limits(exc: BaseException) -> LimitExceeded | None:
    """``exc`` if it is a limit hit, or the first hit of an exception group made only
    of limit hits (a solver's task group); None for anything else."""
    if isinstance(exc, LimitExceeded):
        return exc
    inner = getattr(exc, "exceptions", None)  # BaseExceptionGroup, or its backport
    if not inner:
        return None
    hits = [_only_limits(each) for each in inner]
    return hits[0] if all(hit is not None for hit in hits) else None
