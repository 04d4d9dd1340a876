"""Values through JSON exactly: what the log header records is what a retry gets back.

JSON has no infinity, NaN or tuple, and pydantic writes a non-finite float as
``null``: a retry would then rebuild a task with ``x=None``. ``encode`` writes
those as one-key objects (``{"$float": "inf"}``, ``{"$tuple": [...]}``) that any
JSON reader still parses, and ``decode`` turns them back. A real dict that looks
like such a tag is wrapped as ``{"$dict": {...}}``, so decoding is never
ambiguous. A value that cannot be written exactly (an object, a set, a dict
with non-text keys) is refused with the reason, never changed.
"""

from __future__ import annotations

import math
from typing import Any

_FLOAT, _TUPLE, _DICT = "$float", "$tuple", "$dict"
_TAGS = (_FLOAT, _TUPLE, _DICT)
_NON_FINITE = ("inf", "-inf", "nan")


class NotRecordable(ValueError):
    """A value JSON cannot hold exactly; ``str()`` says where and why."""


def encode(value: Any, where: str = "value") -> Any:
    """``value`` as JSON-ready data that ``decode`` turns back into an equal value."""
    if isinstance(value, str):
        if not _is_utf8(value):
            raise NotRecordable(f"{where} holds a lone surrogate, which UTF-8 (the log's "
                                "encoding) cannot hold")
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT: repr(value)}
    if isinstance(value, list):
        return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return {_TUPLE: [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotRecordable(f"{where} has the key {key!r} ({type(key).__name__}); "
                                    "a log records only text keys")
        encoded = {key: encode(item, f"{where}[{key!r}]") for key, item in value.items()}
        return {_DICT: encoded} if len(encoded) == 1 and next(iter(encoded)) in _TAGS else encoded
    raise NotRecordable(f"{where} is of type {type(value).__name__}, which a log cannot "
                        "record (it holds text, numbers, booleans, None, lists and dicts)")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def decode(value: Any) -> Any:
    """The value ``encode`` was given."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        [(key, inner)] = value.items()
        if key == _FLOAT and inner in _NON_FINITE:  # anything else is not a tag of ours
            return float(inner)
        if key == _TUPLE and isinstance(inner, list):
            return tuple(decode(item) for item in inner)
        if key == _DICT and isinstance(inner, dict):
            return {name: decode(item) for name, item in inner.items()}
    return {key: decode(item) for key, item in value.items()}
