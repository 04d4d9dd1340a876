"""A tool function's JSON schema, from its signature and docstring."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

from ..errors import UsageError
from ..model import ToolInfo
from ._docstring import parse_docstring

JsonSchema = dict[str, Any]

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}
_SUPPORTED = "str, int, float, bool, list[...], dict[str, ...], Literal[...], X | None, Any"


class UnsupportedType(TypeError):
    """An annotation with no JSON-schema equivalent here."""


def tool_info_from_function(
    name: str,
    function: Callable[..., Any],
    description: str | None = None,
    param_descriptions: dict[str, str] | None = None,
) -> ToolInfo:
    """``name``'s ToolInfo: description and parameter texts from the docstring,
    or from ``description`` and ``param_descriptions`` where given.

    Raises UsageError when the docstring or a parameter's annotation or
    description is missing, since the model could not use the tool well.
    """
    doc = parse_docstring(inspect.getdoc(function))
    doc.description = description or doc.description
    doc.params.update(param_descriptions or {})
    if not doc.description:
        raise UsageError(
            f"tool {name!r} has no description: give its execute function a docstring "
            "whose first line says what the tool does, and an 'Args:' section."
        )
    parameters = list(inspect.signature(function).parameters.values())
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise UsageError(
                f"tool {name!r}, parameter {parameter.name!r}: *args and **kwargs cannot be "
                "described to a model; name each parameter."
            )
    undocumented = [p.name for p in parameters if p.name not in doc.params]
    if undocumented:
        listed = ", ".join(repr(p) for p in undocumented)
        noun = "parameter" if len(undocumented) == 1 else "parameters"
        example = "\n".join(f"        {p}: what it means." for p in undocumented)
        raise UsageError(
            f"tool {name!r}: {noun} {listed} not described in the docstring of its execute "
            "function; the model only learns a parameter from its description. "
            f"Add to the docstring's 'Args:' section:\n    Args:\n{example}"
        )
    hints = _type_hints(name, function)
    properties = {p.name: _parameter_schema(name, p, hints, doc.params[p.name]) for p in parameters}
    required = [p.name for p in parameters if p.default is inspect.Parameter.empty]
    return ToolInfo(
        name=name,
        description=doc.description,
        parameters={"type": "object", "properties": properties, "required": required},
    )


def _type_hints(name: str, function: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except (NameError, TypeError) as exc:
        raise UsageError(
            f"tool {name!r}: cannot resolve the type annotations of its execute function "
            f"({exc}); use types importable at module level."
        ) from exc


def _parameter_schema(
    name: str, parameter: inspect.Parameter, hints: dict[str, Any], description: str
) -> JsonSchema:
    where = f"tool {name!r}, parameter {parameter.name!r}"
    if parameter.name not in hints:
        raise UsageError(
            f"{where} has no type annotation; annotate it, e.g. `{parameter.name}: str`."
        )
    try:
        schema = type_schema(hints[parameter.name])
    except UnsupportedType as exc:
        raise UsageError(
            f"{where}: type {exc} is not supported; use one of {_SUPPORTED}."
        ) from None
    schema["description"] = description
    if parameter.default is not inspect.Parameter.empty and _is_json_scalar(parameter.default):
        schema["default"] = parameter.default
    return schema


def type_schema(annotation: Any) -> JsonSchema:
    """The JSON schema of a Python type annotation."""
    if annotation is Any:
        return {}
    if annotation in _SCALARS:
        return {"type": _SCALARS[annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Literal:
        return _literal_schema(annotation, args)
    if origin in (Union, types.UnionType):
        return {"anyOf": [type_schema(arg) for arg in args]}
    if annotation is list or origin is list:
        return {"type": "array", "items": type_schema(args[0])} if args else {"type": "array"}
    if annotation is dict or origin is dict:
        if not args:
            return {"type": "object"}
        if args[0] is not str:
            raise UnsupportedType(_show(annotation))  # JSON object keys are strings
        return {"type": "object", "additionalProperties": type_schema(args[1])}
    raise UnsupportedType(_show(annotation))


def _literal_schema(annotation: Any, values: tuple[Any, ...]) -> JsonSchema:
    if not all(_is_json_scalar(value) for value in values):
        raise UnsupportedType(_show(annotation))
    schema: JsonSchema = {"enum": list(values)}
    kinds = {_SCALARS[type(value)] for value in values}
    if len(kinds) == 1:
        schema["type"] = kinds.pop()
    return schema


def _is_json_scalar(value: Any) -> bool:
    return value is None or type(value) in (str, int, float, bool)


def _show(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)
