"""Binding a context variable for the duration of a ``with`` block."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def bound(variable: ContextVar[T | None], value: T) -> Iterator[T]:
    """Set ``variable`` to ``value`` inside the block, and restore it after."""
    token = variable.set(value)
    try:
        yield value
    finally:
        variable.reset(token)
