"""``@tool``: a factory whose ``execute`` function a model can call."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, overload

from ..errors import UsageError
from ..model import ToolInfo
from ._schema import tool_info_from_function

ToolResult = str | int | float | bool | list[Any] | dict[str, Any] | None
"""What ``execute`` returns; the model sees text: ``None`` as "", a list or dict as JSON."""

P = ParamSpec("P")

# Names the OpenAI and Anthropic APIs both accept.
_VALID_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_INFO_ATTRIBUTE = "__evalkit_tool_info__"


class Tool(Protocol):
    """An ``async def execute(...)`` made by a ``@tool`` factory."""

    async def __call__(self, *args: Any, **kwargs: Any) -> ToolResult: ...


class ToolError(Exception):
    """An error the model should see: its tool result says ``message`` and the run goes on.

    Raise it for bad input the model can correct (a missing file, an invalid
    query); any other exception from a tool is a sample error.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def timeout_message(seconds: float) -> str:
    """What the model is told when a tool call runs out of time."""
    return f"timed out after {seconds:g}s"


@overload
def tool(factory: Callable[P, Tool], /) -> Callable[P, Tool]: ...


@overload
def tool(*, name: str | None = None) -> Callable[[Callable[P, Tool]], Callable[P, Tool]]: ...


def tool(
    factory: Callable[P, Tool] | None = None, /, *, name: str | None = None
) -> Callable[P, Tool] | Callable[[Callable[P, Tool]], Callable[P, Tool]]:
    """Make a tool factory: calling it returns a tool the model can call.

    The tool is named ``name`` or after the factory; its description and
    parameter schema come from the ``execute`` function's docstring and type
    hints, checked when the factory is called.
    """

    def decorate(factory: Callable[P, Tool]) -> Callable[P, Tool]:
        tool_name = valid_tool_name(name or factory.__name__)

        @functools.wraps(factory)
        def make_tool(*args: P.args, **kwargs: P.kwargs) -> Tool:
            return _as_tool(tool_name, factory(*args, **kwargs))

        return make_tool

    return decorate if factory is None else decorate(factory)


def valid_tool_name(name: str) -> str:
    """``name``, or UsageError if model APIs would refuse it."""
    if not _VALID_NAME.match(name):
        raise UsageError(
            f"tool name {name!r} is not accepted by model APIs: use 1-64 letters, "
            "digits, '_' or '-' (e.g. @tool(name='read_file'))."
        )
    return name


def tool_info(tool: Tool) -> ToolInfo:
    """The name, description and parameter schema a model is shown for ``tool``."""
    return registered_info(tool).model_copy(deep=True)


def registered_info(tool: Tool) -> ToolInfo:
    """``tool``'s own ToolInfo (not a copy); UsageError if it was not made by ``@tool``."""
    info = getattr(tool, _INFO_ATTRIBUTE, None)
    if not isinstance(info, ToolInfo):
        raise UsageError(
            f"{tool!r} is not a tool: write a factory decorated with @tool that returns "
            "an `async def execute(...)`, and pass the factory's result (e.g. bash(), not bash)."
        )
    return info


def _as_tool(name: str, execute: Any) -> Tool:
    # A callable object describes itself through its __call__ method.
    function = execute if inspect.isroutine(execute) or not callable(execute) else execute.__call__
    if not inspect.iscoroutinefunction(function):
        raise UsageError(
            f"tool {name!r}: its factory must return an `async def execute(...)` function, "
            f"not {type(execute).__name__}."
        )
    return attach_info(execute, tool_info_from_function(name, function))


def attach_info(execute: Callable[..., Any], info: ToolInfo) -> Tool:
    """``execute`` as a tool described by ``info``."""
    try:
        setattr(execute, _INFO_ATTRIBUTE, info)
        tool: Tool = execute
    except AttributeError:  # a bound method takes no attributes: wrap it
        tool = wrap_tool(execute)
        setattr(tool, _INFO_ATTRIBUTE, info)
    return tool


def wrap_tool(execute: Callable[..., Any]) -> Tool:
    @functools.wraps(execute)
    async def wrapper(*args: Any, **kwargs: Any) -> ToolResult:
        result: ToolResult = await execute(*args, **kwargs)
        return result

    return wrapper
