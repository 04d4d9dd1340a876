"""``-T subjects=anatomy,astronomy``: a comma-separated value where a task wants a list.

The CLI marks a text value holding commas as ``CommaText``; when the ``@task``
function is called, such a value is split for a parameter whose annotation
admits a list (or that has no annotation, as Inspect AI splits every such
value) and left whole for one that wants ``str``. Values given from Python are
plain ``str`` and never split.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

_LIST_TYPES = (list, tuple, set, frozenset, collections.abc.Sequence,
               collections.abc.Iterable, collections.abc.Collection)


class CommaText(str):
    """A command-line value with commas in it: a list, where the task takes a list."""


def split_comma_args(function: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with each ``CommaText`` split where ``function``'s parameter takes a list."""
    if not any(isinstance(value, CommaText) for value in kwargs.values()):
        return kwargs
    parameters = inspect.signature(function).parameters
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve: fall back to no hints
        hints = {}
    split = dict(kwargs)
    for name, value in kwargs.items():
        if isinstance(value, CommaText) and name in parameters:
            hint = hints.get(name, inspect.Parameter.empty)
            if _admits_list(hint):
                split[name] = [_item(part.strip(), _item_type(hint)) for part in value.split(",")]
            else:
                split[name] = str(value)
    return split


def _admits_list(hint: Any) -> bool:
    if hint is inspect.Parameter.empty or hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_admits_list(arg) for arg in typing.get_args(hint))
    return hint in _LIST_TYPES or origin in _LIST_TYPES


def _item_type(hint: Any) -> type | None:
    """``int`` for ``list[int]`` (also inside a union); ``None`` when unknown."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(hint):
            if (found := _item_type(arg)) is not None:
                return found
        return None
    args = typing.get_args(hint)
    if origin in _LIST_TYPES and args and args[0] in (int, float):
        return typing.cast(type, args[0])
    return None


def _item(text: str, item_type: type | None) -> Any:
    if item_type is None:
        return text
    try:
        return item_type(text)
    except ValueError:
        return text  # the task's own checks say what is wrong with it
