"""``think``: a tool that does nothing but give the model room to reason."""

from __future__ import annotations

from ._tool import Tool
from ._tool_def import ToolDef

_DESCRIPTION = (
    "Write down your reasoning before you act: plan the next steps, check a tool's "
    "output against what you expected, or weigh options. It changes nothing and "
    "fetches nothing; the thought is kept in the conversation."
)
_THOUGHT = "Your reasoning, as long as it needs to be."


def think(description: str | None = None, thought_description: str | None = None) -> Tool:
    """A ``think`` tool with one parameter, ``thought``; calling it returns nothing.

    Args:
        description: What the model is told the tool is for (default: a short
            invitation to reason before acting).
        thought_description: What the model is told about the ``thought`` parameter.
    """

    async def execute(thought: str) -> str:
        return ""

    return ToolDef(execute, name="think", description=description or _DESCRIPTION,
                   parameters={"thought": thought_description or _THOUGHT}).as_tool()
