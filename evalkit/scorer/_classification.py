"""``f1()`` and ``exact()``: SQuAD-style comparison of answer and target words.

Both normalise text the same way: case folded, punctuation dropped (except
inside numbers), articles ("a", "an", "the") and given stop words removed,
numbers compared as numbers ("15" equals "15.0"), words split on spaces
and hyphens, and compared as sets.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from ..dataset import Target
from ..solver import TaskState
from ._metrics import mean, stderr
from ._score import CORRECT, INCORRECT, Score
from ._scorer import Scorer, scorer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


@scorer(metrics=[mean(), stderr()])
def f1(answer_fn: Callable[[str], str] | None = None,
       stop_words: list[str] | None = None) -> Scorer:
    """The best F1 of the answer's words against any target's words (0 to 1, 2 decimals)."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        answer = answer_fn(answer) if answer_fn else answer
        best = max((_f1(words(answer, stop_words), words(t, stop_words))
                    for t in target if t.strip()), default=0.0)
        return Score(value=round(best, 2), answer=answer)

    return score


@scorer(metrics=[mean(), stderr()])
def exact() -> Scorer:
    """Correct when the answer's words equal some target's words after normalising."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        found = any(words(answer) == words(t) for t in target if t.strip())
        return Score(value=CORRECT if found else INCORRECT, answer=answer)

    return score


def words(text: str, stop_words: list[str] | None = None) -> set[str]:
    """The normalised words of ``text`` (see the module docstring)."""
    stops = {_token(word) for word in stop_words or []}
    tokens = (_token(token) for token in re.split(r"[ \-]", text))
    return {token for token in tokens if token and token not in stops}


def _token(token: str) -> str:
    folded = token.casefold()
    try:
        return str(float(folded))
    except ValueError:
        stripped = folded.translate(_PUNCTUATION)
        return " ".join(_ARTICLES.sub(" ", stripped).split())


def _f1(answer: set[str], target: set[str]) -> float:
    shared = len(answer & target)
    precision = shared / len(answer) if answer else 1.0
    recall = shared / len(target) if target else 1.0
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
