"""``ToolDef``: a tool described in code rather than by ``@tool`` and a docstring."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..model import ToolInfo
from ._schema import tool_info_from_function
from ._tool import Tool, attach_info, registered_info, valid_tool_name, wrap_tool


class ToolDef:
    """A tool made from an async function (or an existing tool), with its name,
    description and parameter descriptions given here where a docstring is missing
    or says something else. ``as_tool()`` is the tool a solver can use.
    """

    def __init__(
        self,
        tool: Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        """
        Args:
            tool: An ``async def`` function, or a tool made by a ``@tool`` factory.
            name: The tool's name (default: the tool's own, or the function's).
            description: What the tool does, as the model is told.
            parameters: Descriptions of the parameters, by name.
        """
        self.tool = tool
        info = _base_info(tool, name, description, parameters)
        self.name = valid_tool_name(name or info.name)
        self.description = description or info.description
        self.parameters: dict[str, Any] = info.parameters
        for parameter, text in (parameters or {}).items():
            properties = self.parameters["properties"]
            if parameter not in properties:
                known = ", ".join(repr(each) for each in properties) or "none"
                raise UsageError(f"ToolDef {self.name!r}: no parameter {parameter!r} to "
                                 f"describe; its parameters are {known}")
            properties[parameter]["description"] = text

    def as_tool(self) -> Tool:
        """The tool, described as this definition says (a new function each call: the
        function given is never changed)."""
        info = ToolInfo(name=self.name, description=self.description,
                        parameters=copy.deepcopy(self.parameters))
        return attach_info(wrap_tool(self.tool), info)

    def __repr__(self) -> str:
        return f"ToolDef(name={self.name!r})"


def _base_info(tool: Callable[..., Any], name: str | None, description: str | None,
               parameters: dict[str, str] | None) -> ToolInfo:
    try:
        return registered_info(tool).model_copy(deep=True)
    except UsageError:
        pass
    if not inspect.iscoroutinefunction(tool):
        raise UsageError(f"ToolDef needs an `async def` function or a tool, not {tool!r}")
    return tool_info_from_function(name or tool.__name__, tool, description, parameters)


def as_tool(tool: Tool | ToolDef) -> Tool:
    """``tool`` itself, or the tool a ToolDef describes."""
    return tool.as_tool() if isinstance(tool, ToolDef) else tool
