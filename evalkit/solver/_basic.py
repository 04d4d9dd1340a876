"""Built-in solvers: ``generate``, ``system_message``, ``use_tools``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._util._template import format_template
from ..model import ChatMessageSystem, GenerateConfig, ToolChoice
from ._prompt import template_values
from ._solver import Generate, Solver, ToolCalls, solver
from ._state import TaskState

if TYPE_CHECKING:
    from ..tool import Tool, ToolDef


@solver
def generate(tool_calls: ToolCalls = "loop", **config: Any) -> Solver:
    """Call the model; with tools, run the calls it asks for until it answers."""
    generate_config = GenerateConfig(**config) if config else None

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        return await generate(state, tool_calls=tool_calls, config=generate_config)

    return solve


@solver
def system_message(template: str, **params: Any) -> Solver:
    """Insert a system message, its ``{name}``s filled from the sample metadata, the
    store and ``params`` (later win); unknown names and other braces kept as written."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        content = format_template(template, template_values(state, params))
        position = sum(1 for m in state.messages if isinstance(m, ChatMessageSystem))
        state.messages.insert(position, ChatMessageSystem(content=content))
        return state

    return solve


@solver
def use_tools(*tools: Tool | ToolDef | list[Tool | ToolDef],
              tool_choice: ToolChoice | None = None) -> Solver:
    """Make ``tools`` (tools or ToolDefs) available to the model for the rest of the sample."""
    flat: list[Tool] = []
    for item in tools:
        flat.extend(as_tools(item if isinstance(item, list) else [item]))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.tools = flat
        if tool_choice is not None:
            state.tool_choice = tool_choice
        return state

    return solve


def as_tools(tools: Sequence[Tool | ToolDef]) -> list[Tool]:
    """Tools, with each ToolDef made into the tool it describes."""
    return [item.as_tool() if hasattr(item, "as_tool") else item
            for item in tools]
