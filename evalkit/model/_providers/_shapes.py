"""Strict reading of a provider's JSON: a value of the wrong type is a malformed reply, never an answer.

A reply whose ``content`` is a number, say, breaks the protocol; reading it
as text would score a garbled reply as the model's answer. The helpers raise
``TypeError``, which ``JsonClient`` reports as a malformed reply (transient:
retried, then a sample error of phase ``model``).
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_NAMES = {str: "a string", int: "an integer", list: "a list", dict: "an object"}


def expect(value: Any, kind: type[T], what: str) -> T:
    """``value`` if it is a ``kind`` (an integer is never a bool), else TypeError naming ``what``."""
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise TypeError(f"{what} is {_describe(value)}, not {_NAMES.get(kind, kind.__name__)}")


def optional(value: Any, kind: type[T], what: str) -> T | None:
    """``expect``, with None (or a missing key) allowed."""
    return None if value is None else expect(value, kind, what)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}"
