"""NaN through JSON: pydantic writes a NaN float as null (JSON has no NaN)."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _null_is_nan(value: Any) -> Any:
    return float("nan") if value is None else value


NULL_IS_NAN = BeforeValidator(_null_is_nan)
"""For ``Annotated[float, NULL_IS_NAN]``: a NaN written as null reads back as NaN."""
