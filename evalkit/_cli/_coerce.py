"""Parsing ``key=value`` flags (``-T``, ``-M``) into typed values."""

from __future__ import annotations

import json
from typing import Any

from ..errors import UsageError


def coerce_value(text: str) -> Any:
    """``3`` -> 3, ``0.5`` -> 0.5, ``true`` -> True, JSON lists/objects, else the string."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    if text[:1] in "[{\"":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(f"value {text!r} looks like JSON but does not parse: {exc.msg}") \
                from None
    return text


def parse_assignments(items: list[str] | None, flag: str) -> dict[str, Any]:
    """``["a=1", "b=x"]`` -> ``{"a": 1, "b": "x"}``, with a clear error for bad items."""
    parsed: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"bad {flag} value {item!r}: expected key=value, e.g. {flag} n=10")
        parsed[key.strip().replace("-", "_")] = coerce_value(value)
    return parsed
