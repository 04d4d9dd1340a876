"""``answer()``: score the text after ``ANSWER:`` (a letter, a word or the rest of the line)."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from ._builtin import pattern as pattern_scorer
from ._scorer import Scorer


class AnswerPattern(str, Enum):
    """Regular expressions that take the answer from a reply's ``ANSWER:`` line."""

    LETTER = r"ANSWER\s*:\s*([A-Za-z])(?:[^\w]|$)"
    """One letter (multiple choice)."""
    WORD = r"ANSWER\s*:\s*(\w+)(?:\W|$)"
    """One word (yes/no answers)."""
    LINE = r"(?m)ANSWER\s*:\s*(.+?)\s*$"
    """The rest of the line (ask the model to end with its own ANSWER: line)."""


def answer(pattern: Literal["letter", "word", "line"]) -> Scorer:
    """Correct when the ``ANSWER:`` letter, word or line equals a target (case ignored)."""
    expressions = {"letter": AnswerPattern.LETTER, "word": AnswerPattern.WORD,
                   "line": AnswerPattern.LINE}
    if pattern not in expressions:
        raise ValueError(f"answer() takes 'letter', 'word' or 'line', not {pattern!r}")
    return pattern_scorer(expressions[pattern].value)
