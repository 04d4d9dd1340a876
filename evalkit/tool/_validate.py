"""Check a model's tool-call arguments against the tool's JSON schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# JSON schema type -> does a decoded JSON value have it (bool is not a number here).
_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def argument_errors(arguments: dict[str, Any], parameters: dict[str, Any]) -> list[str]:
    """What is wrong with ``arguments`` for a tool with these ``parameters``; empty if fine."""
    properties: dict[str, Any] = parameters.get("properties", {})
    problems = [
        f"missing required argument {name!r}"
        for name in parameters.get("required", [])
        if name not in arguments
    ]
    for name, value in arguments.items():
        if name not in properties:
            expected = ", ".join(repr(p) for p in properties) or "none"
            problems.append(f"unexpected argument {name!r} (parameters: {expected})")
            continue
        problem = value_error(value, properties[name])
        if problem:
            problems.append(f"argument {name!r} {problem}")
    return problems


def value_error(value: Any, schema: dict[str, Any]) -> str | None:
    """Why ``value`` does not fit ``schema``, or None when it does."""
    if "anyOf" in schema:
        if any(value_error(value, option) is None for option in schema["anyOf"]):
            return None
        return f"must be {describe(schema)}, got {_show(value)}"
    if "enum" in schema:
        # `type` too, as 1 == True and 1 == 1.0 in Python.
        if any(value == option and type(value) is type(option) for option in schema["enum"]):
            return None
        return f"must be {describe(schema)}, got {_show(value)}"
    expected = schema.get("type")
    if expected is None:
        return None
    if not _TYPE_CHECKS[expected](value):
        return f"must be {describe(schema)}, got {_show(value)}"
    return _item_error(value, schema)


def _item_error(value: Any, schema: dict[str, Any]) -> str | None:
    """The first array item or object value that does not fit its schema."""
    items: list[tuple[str, Any, dict[str, Any]]] = []
    if isinstance(value, list) and "items" in schema:
        items = [(f"item {i}", item, schema["items"]) for i, item in enumerate(value)]
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        item_schema = schema["additionalProperties"]
        items = [(f"key {key!r}", item, item_schema) for key, item in value.items()]
    for where, item, item_schema in items:
        problem = value_error(item, item_schema)
        if problem:
            return f"{where} {problem}"
    return None


def describe(schema: dict[str, Any]) -> str:
    """``schema`` in words: ``integer``, ``one of 'a', 'b'``, ``string or null``."""
    if "anyOf" in schema:
        return " or ".join(describe(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(option) for option in schema["enum"])
    kind = schema.get("type", "any value")
    if kind == "array" and "items" in schema:
        return f"array of {describe(schema['items'])}"
    return str(kind)


def _show(value: Any) -> str:
    text = json.dumps(value, default=repr)
    kind = next(
        (name for name, check in _TYPE_CHECKS.items() if check(value)), type(value).__name__
    )
    return f"{kind} {text if len(text) <= 40 else text[:37] + '...'}"
