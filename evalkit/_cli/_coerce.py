"""Parsing ``key=value`` flags (``-T``, ``-M``) into typed values.

Every value parsed here is recorded in the log header exactly (see
``_util._exact``), so a number that would silently change when parsed (``1e400``
becomes infinity) is refused instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .._util._comma_list import CommaText
from ..errors import UsageError

_NON_FINITE = {sign + name for sign in ("", "+", "-") for name in ("inf", "infinity", "nan")}


def coerce_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``inf``/``nan`` -> float, ``true`` -> True, JSON
    lists/objects/strings, else the string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return _float(text)
    except ValueError:
        pass
    if "," in text and text[:1] not in "[{\"":
        return CommaText(text)  # a list, where the task's parameter takes one
    if text[:1] in "[{\"":
        try:
            return json.loads(text, parse_float=_float)
        except json.JSONDecodeError as exc:
            raise UsageError(f"value {text!r} looks like JSON but does not parse: {exc.msg}") \
                from None
    return text


def _float(text: str) -> float:
    """``float(text)``, refusing a finite-looking number that overflows to infinity."""
    value = float(text)
    if math.isinf(value) and text.strip().lower() not in _NON_FINITE:
        raise UsageError(
            f"number {text!r} is too large for a float (the largest is about 1.8e308); write "
            "inf for infinity, or quote it as JSON text ('\"...\"') to pass a string"
        )
    return value


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``, with a clear error for bad items."""
    parsed: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad {flag} value {item!r}: expected key=value, e.g. {flag} n=10")
        try:
            parsed[key.strip().replace("-", "_")] = coerce_value(value)
        except UsageError as exc:
            raise UsageError(f"bad {flag} {key.strip()}: {exc}") from None
    return parsed
