"""``Score``, ``SampleScore`` and converting score values to numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel

from .._util._nan import INF_FROM_TEXT, INF_TO_TEXT, NULL_IS_NAN

CORRECT = "C"
INCORRECT = "I"
PARTIAL = "P"
NOANSWER = "N"

Value = str | int | float | bool | list[Any] | dict[str, Any]

ValueToFloat = Callable[[Value], float]
"""Turns a score value into a number (what ``value_to_float()`` returns)."""


class Score(BaseModel):
    """A scorer's verdict on one sample."""

    value: Annotated[Value, NULL_IS_NAN, INF_FROM_TEXT, INF_TO_TEXT]
    """NaN or None means unscored: logged as null, read back as NaN. ±inf are
    logged as "Infinity"/"-Infinity" and read back as floats."""
    answer: str | None = None
    explanation: str | None = None
    metadata: dict[str, Any] | None = None

    @classmethod
    def unscored(cls, *, answer: str | None = None, explanation: str | None = None,
                 metadata: dict[str, Any] | None = None) -> Score:
        """A score kept in the log but left out of every metric and reducer (value NaN),
        for a sample the scorer could not judge (Inspect's ``Score.unscored()``)."""
        return cls(value=math.nan, answer=answer, explanation=explanation, metadata=metadata)

    @property
    def text(self) -> str:
        """The value as text."""
        return self.as_str()

    def as_str(self) -> str:
        """The value as text (a scalar value only)."""
        return str(self._scalar())

    def as_int(self) -> int:
        """The value as a whole number (a scalar value only)."""
        return int(self._scalar())

    def as_float(self) -> float:
        """The value as a number (a scalar value only): 1.5, True, "2.5"."""
        return float(self._scalar())

    def as_bool(self) -> bool:
        """The value as a boolean (a scalar value only)."""
        return bool(self._scalar())

    def as_list(self) -> list[Any]:
        """The value, which must be a list."""
        if not isinstance(self.value, list):
            raise ValueError(f"score value {self.value!r} is not a list")
        return self.value

    def as_dict(self) -> dict[str, Any]:
        """The value, which must be a dict."""
        if not isinstance(self.value, dict):
            raise ValueError(f"score value {self.value!r} is not a dict")
        return self.value

    def _scalar(self) -> str | int | float | bool:
        if isinstance(self.value, (str, int, float, bool)):
            return self.value
        raise ValueError(f"score value {self.value!r} is not a str, int, float or bool")


class SampleScore(BaseModel):
    """A sample's score as a metric sees it: with the sample's id and metadata."""

    score: Score
    sample_id: str | int | None = None
    sample_metadata: dict[str, Any] | None = None
    scorer: str | None = None

    def as_str(self) -> str:
        return self.score.as_str()

    def as_int(self) -> int:
        return self.score.as_int()

    def as_float(self) -> float:
        return self.score.as_float()

    def as_bool(self) -> bool:
        return self.score.as_bool()

    def as_list(self) -> list[Any]:
        return self.score.as_list()

    def as_dict(self) -> dict[str, Any]:
        return self.score.as_dict()


_WORD_VALUES = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}


def value_to_float(
    correct: Value = CORRECT,
    incorrect: Value = INCORRECT,
    partial: Value = PARTIAL,
    noanswer: Value = NOANSWER,
) -> ValueToFloat:
    """A function reading score values as numbers: ``correct`` is 1, ``incorrect`` and
    ``noanswer`` 0, ``partial`` 0.5; booleans, numbers, numeric text and yes/no too.

    Text that is none of these raises ``ValueError`` (evalkit leaves such a sample
    unscored rather than counting it as 0).
    """
    letters = {correct: 1.0, incorrect: 0.0, partial: 0.5, noanswer: 0.0}

    def to_float(value: Value) -> float:
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            if value in letters:
                return letters[value]
            if value.lower() in _WORD_VALUES:
                return _WORD_VALUES[value.lower()]
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"score value {value!r} cannot be read as a number")

    return to_float


score_to_float = value_to_float()
"""``value_to_float()`` with the default letters: what metrics and reducers use."""
