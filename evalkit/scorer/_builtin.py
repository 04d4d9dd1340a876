"""Built-in scorers: ``match``, ``includes``, ``pattern``."""

from __future__ import annotations

import re
import string
from decimal import Decimal
from typing import Literal

from ..dataset import Target
from ..solver import TaskState
from ._metrics import accuracy, stderr
from ._numbers import numbers_in, parse_number
from ._score import CORRECT, INCORRECT, Score
from ._scorer import Scorer, scorer


def _normalize(text: str, ignore_case: bool) -> str:
    text = " ".join(text.strip().split()).strip(string.punctuation + " ")
    return text.lower() if ignore_case else text


def _verdict(correct: bool, answer: str, explanation: str | None = None) -> Score:
    return Score(value=CORRECT if correct else INCORRECT, answer=answer, explanation=explanation)


@scorer(metrics=[accuracy(), stderr()])
def match(
    location: Literal["begin", "end", "any", "exact"] = "end",
    *,
    ignore_case: bool = True,
    numeric: bool = False,
) -> Scorer:
    """Correct when the target appears at ``location`` in the answer.

    With ``numeric=True`` and a target that is a number, the number at
    ``location`` (the first, the last, any, or the whole answer) must equal it:
    currency signs, thousands separators, trailing zeros and punctuation aside.
    """

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        text, shown = _normalize(answer, ignore_case), answer
        for wanted in target:
            number = parse_number(wanted) if numeric else None
            if number is not None:
                found = _number_at(answer, location, number)
                if found is not None and found[1] == number:
                    return _verdict(True, found[0])
                shown = found[0] if found is not None else ""
            elif _located(text, _normalize(wanted, ignore_case), location):
                return _verdict(True, answer)
        return _verdict(False, shown)

    return score


def _number_at(answer: str, location: str, wanted: Decimal) -> tuple[str, Decimal] | None:
    """The number of ``answer`` at ``location`` (for "any", the one equal to ``wanted``)."""
    if location == "exact":
        number = parse_number(answer)
        return None if number is None else (answer.strip(), number)
    numbers = numbers_in(answer)
    if location == "any":
        return next((found for found in numbers if found[1] == wanted), None)
    if not numbers:
        return None
    return numbers[0] if location == "begin" else numbers[-1]


def _located(text: str, candidate: str, location: str) -> bool:
    if location == "begin":
        return text.startswith(candidate)
    if location == "end":
        return text.endswith(candidate)
    if location == "exact":
        return text == candidate
    return candidate in text


@scorer(metrics=[accuracy(), stderr()])
def includes(ignore_case: bool = True) -> Scorer:
    """Correct when any target string occurs in the answer."""

    async def score(state: TaskState, target: Target) -> Score:
        answer = state.output.completion
        haystack = answer.lower() if ignore_case else answer
        found = any((t.lower() if ignore_case else t) in haystack for t in target)
        return _verdict(found, answer)

    return score


@scorer(metrics=[accuracy(), stderr()])
def pattern(pattern: str, ignore_case: bool = True, match_all: bool = False) -> Scorer:
    """Extract the answer with the regular expression ``pattern`` (its groups) and
    compare it to the target."""
    compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)

    async def score(state: TaskState, target: Target) -> Score:
        found = compiled.search(state.output.completion)
        if found is None:
            return Score(value=INCORRECT, explanation="pattern not found")
        groups = [g for g in found.groups() if g is not None] or [found.group(0)]
        wanted = {t.lower() if ignore_case else t for t in target}
        seen = [g.lower() if ignore_case else g for g in groups]
        correct = all(g in wanted for g in seen) if match_all else any(g in wanted for g in seen)
        return _verdict(correct, groups[0])

    return score
