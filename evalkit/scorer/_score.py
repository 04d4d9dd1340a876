"""``Score`` and converting score values to numbers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from .._util._nan import INF_FROM_TEXT, INF_TO_TEXT, NULL_IS_NAN

CORRECT = "C"
INCORRECT = "I"
PARTIAL = "P"
NOANSWER = "N"

Value = str | int | float | bool | list[Any] | dict[str, Any]


class Score(BaseModel):
    """A scorer's verdict on one sample."""

    value: Annotated[Value, NULL_IS_NAN, INF_FROM_TEXT, INF_TO_TEXT]
    """NaN or None means unscored: logged as null, read back as NaN. ±inf are
    logged as "Infinity"/"-Infinity" and read back as floats."""
    answer: str | None = None
    explanation: str | None = None
    metadata: dict[str, Any] | None = None


_LETTER_VALUES = {CORRECT: 1.0, INCORRECT: 0.0, PARTIAL: 0.5, NOANSWER: 0.0}
_WORD_VALUES = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}


def value_to_float(value: Value) -> float:
    """A score value as a number: C/I/P/N, booleans, numbers, yes/no."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        if value in _LETTER_VALUES:
            return _LETTER_VALUES[value]
        if value.lower() in _WORD_VALUES:
            return _WORD_VALUES[value.lower()]
        try:
            return float(value)
        except ValueError:
            pass
    raise ValueError(f"score value {value!r} cannot be read as a number")
