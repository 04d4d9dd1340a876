"""Tools a model can call: ``@tool``, their schemas, and ``bash``/``python`` in a sandbox."""

from ..model import ToolInfo
from ._code_tools import bash, python
from ._execute import execute_tools
from ._local_sandbox import LocalSandbox
from ._output import MAX_TOOL_OUTPUT
from ._sandbox import ExecResult, SandboxEnvironment, sandbox, sandbox_context, sandboxenv
from ._sandbox_setup import SandboxSetupError, setup_sandbox
from ._think import think
from ._tool import Tool, ToolError, ToolResult, tool, tool_info
from ._tool_def import ToolDef

__all__ = [
    "MAX_TOOL_OUTPUT",
    "ExecResult",
    "LocalSandbox",
    "SandboxEnvironment",
    "SandboxSetupError",
    "Tool",
    "ToolDef",
    "ToolError",
    "ToolInfo",
    "ToolResult",
    "bash",
    "execute_tools",
    "python",
    "sandbox",
    "sandbox_context",
    "sandboxenv",
    "setup_sandbox",
    "think",
    "tool",
    "tool_info",
]
