"""The generate loop: call the model, run the tools it asks for, repeat."""

from __future__ import annotations

from ..model import ChatMessageTool, GenerateConfig, Model, ToolCall, ToolInfo
from ._limits import SampleLimits, check_messages, check_tokens
from ._solver import Generate, ToolCalls
from ._state import TaskState


def make_generate(model: Model, limits: SampleLimits) -> Generate:
    """The ``generate`` a solver receives, bound to a model and the sample's limits."""

    async def generate(
        state: TaskState,
        tool_calls: ToolCalls = "loop",
        config: GenerateConfig | None = None,
    ) -> TaskState:
        return await generate_loop(state, model, limits, tool_calls, config)

    return generate


async def generate_loop(
    state: TaskState,
    model: Model,
    limits: SampleLimits,
    tool_calls: ToolCalls = "loop",
    config: GenerateConfig | None = None,
) -> TaskState:
    """Call ``model`` until it answers without tool calls, or a limit is reached.

    Messages are counted over the whole conversation (system, user, assistant
    and tool messages alike); the model is never called when the conversation
    already holds ``limits.messages``, nor a tool whose result has no room left.
    """
    infos = _tool_infos(state)
    while True:
        check_messages(state, limits)
        check_tokens(limits)
        state.output = await model.generate(state.messages, infos, state.tool_choice, config)
        state.messages.append(state.output.message)
        check_tokens(limits)
        calls = state.output.message.tool_calls
        if not calls or tool_calls == "none":
            return state
        for call in calls:
            # One call at a time, so no tool runs whose result has no room left.
            check_messages(state, limits)
            state.messages.append(await _run_tool(state, call))
        if tool_calls == "single":
            return state


def _tool_infos(state: TaskState) -> list[ToolInfo]:
    if not state.tools:
        return []
    # Imported here so that evals without tools never load the tool layer.
    from ..tool import tool_info

    return [tool_info(tool) for tool in state.tools]


async def _run_tool(state: TaskState, call: ToolCall) -> ChatMessageTool:
    from ..tool import execute_tools

    [result] = await execute_tools([call], state.tools)
    return result
