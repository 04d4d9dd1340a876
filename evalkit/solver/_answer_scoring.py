"""Scoring a submitted answer mid-solve, for agents that retry a wrong submission.

Scorers live above solvers (DESIGN §7), so the runner binds a scoring function
for each sample here and agents call it through ``score_answer``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from ._state import TaskState


@dataclass(frozen=True)
class AnswerScoring:
    """How the running sample is scored: its first scorer, and its values as numbers."""

    score: Callable[[TaskState], Awaitable[Any]]
    """The first scorer's Score for the state as it stands."""
    to_float: Callable[[Any], float]
    """A Score value as a number (1.0: correct)."""


_scoring: ContextVar[AnswerScoring | None] = ContextVar("evalkit_answer_scoring", default=None)


@contextmanager
def bind_answer_scoring(scoring: AnswerScoring) -> Iterator[None]:
    """Make ``scoring`` what agents use to check a submission in this context."""
    token = _scoring.set(scoring)
    try:
        yield
    finally:
        _scoring.reset(token)


async def score_submission(
    state: TaskState, score_value: Callable[[Any], float] | None
) -> tuple[bool, Any]:
    """Whether the sample's first scorer gives ``state`` a value of 1.0, and its Score."""
    scoring = _scoring.get()
    if scoring is None:
        raise UsageError(
            "an agent with more than one attempt scores each submission with the task's "
            "scorer, and none is bound here: run it in an eval, or use one attempt"
        )
    score = await scoring.score(state)
    return (score_value or scoring.to_float)(score.value) == 1.0, score
