"""Non-finite floats through JSON, which has no NaN or infinity.

pydantic writes NaN and ±inf as ``null``. For NaN that is what we want (a
NaN score is "unscored", and null says so). Infinity is a real value, so
``INF_TO_TEXT`` writes it as the strings ``"Infinity"`` / ``"-Infinity"``
(what Python's ``float()`` and JavaScript's ``Number()`` read back), keeping the
file plain JSON for jq, DuckDB and pandas, and ``INF_FROM_TEXT`` reads those strings back as floats.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BeforeValidator, PlainSerializer


def _null_is_nan(value: Any) -> Any:
    return float("nan") if value is None else value


NULL_IS_NAN = BeforeValidator(_null_is_nan)
"""For ``Annotated[float, NULL_IS_NAN]``: a NaN written as null reads back as NaN."""

_INF_TEXT = {"Infinity": math.inf, "-Infinity": -math.inf}


def inf_to_text(value: Any) -> Any:
    """``value`` with every ±inf (in lists and dicts too) as ``"Infinity"``/``"-Infinity"``."""
    if isinstance(value, float) and math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, list):
        return [inf_to_text(item) for item in value]
    if isinstance(value, dict):
        return {key: inf_to_text(item) for key, item in value.items()}
    return value


def text_to_inf(value: Any) -> Any:
    """The inverse of ``inf_to_text``."""
    if isinstance(value, str):
        return _INF_TEXT.get(value, value)
    if isinstance(value, list):
        return [text_to_inf(item) for item in value]
    if isinstance(value, dict):
        return {key: text_to_inf(item) for key, item in value.items()}
    return value


INF_FROM_TEXT = BeforeValidator(text_to_inf)
INF_TO_TEXT = PlainSerializer(inf_to_text, when_used="json")
"""For ``Annotated[T, INF_FROM_TEXT, INF_TO_TEXT]``: ±inf survive JSON as values."""
