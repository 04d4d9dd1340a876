"""Tools a model can call: ``@tool``, their schemas, and ``bash``/``python`` in a sandbox."""

from ..model import ToolInfo
from ._code_tools import bash, python
from ._execute import execute_tools
from ._output import MAX_TOOL_OUTPUT
from ._sandbox import ExecResult, Sandbox, sandbox, sandbox_context
from ._tool import Tool, ToolError, ToolResult, tool, tool_info

__all__ = [
    "MAX_TOOL_OUTPUT",
    "ExecResult",
    "Sandbox",
    "Tool",
    "ToolError",
    "ToolInfo",
    "ToolResult",
    "bash",
    "execute_tools",
    "python",
    "sandbox",
    "sandbox_context",
    "tool",
    "tool_info",
]
