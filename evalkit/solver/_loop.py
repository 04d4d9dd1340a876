"""The generate loop: call the model, run the tools it asks for, repeat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import anyio

from ..model import ChatMessage, ChatMessageTool, GenerateConfig, Model, ToolCall, ToolInfo
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
    already holds ``limits.messages``.
    """
    infos = _tool_infos(state)
    while True:
        check_messages(state, limits)
        check_tokens(limits)
        state.output = await model.generate(state.messages, infos, state.tool_choice, config)
        _append(state, state.output.message, limits)
        check_tokens(limits)
        calls = state.output.message.tool_calls
        if not calls or tool_calls == "none":
            return state
        for call in calls:
            # One call at a time, so no tool runs whose result has no room left.
            check_messages(state, limits)
            _append(state, await _run_tool(state, call), limits)
        if tool_calls == "single":
            return state


def _append(state: TaskState, message: ChatMessage, limits: SampleLimits) -> None:
    check_messages(state, limits)
    state.messages.append(message)


def _tool_infos(state: TaskState) -> list[ToolInfo]:
    if not state.tools:
        return []
    # Imported here so that evals without tools never load the tool layer.
    from ..tool import tool_info

    return [tool_info(tool) for tool in state.tools]


async def _run_tool(state: TaskState, call: ToolCall) -> ChatMessageTool:
    from ..tool import execute_tools

    await _enter_sandbox()
    [result] = await execute_tools([call], state.tools)
    return result


@dataclass
class _SampleScope:
    stack: AsyncExitStack
    task_id: int
    sandbox: bool = False


_sample_scope: ContextVar[_SampleScope | None] = ContextVar("evalkit_sample_scope", default=None)


@asynccontextmanager
async def sample_scope() -> AsyncIterator[None]:
    """Open around one sample by the runner: what its tools open lazily closes with it.

    The sample's sandbox (a fresh working directory shared by its ``bash`` and
    ``python`` calls) is made on the first tool call and removed on exit, so a
    sample that calls no tool costs nothing.
    """
    async with AsyncExitStack() as stack:
        token = _sample_scope.set(_SampleScope(stack, anyio.get_current_task().id))
        try:
            yield
        finally:
            _sample_scope.reset(token)


async def _enter_sandbox() -> None:
    scope = _sample_scope.get()
    # A tool loop run in a task the solver started cannot bind the sandbox for the
    # whole sample (context variables do not flow back); its tools then get a
    # throwaway sandbox per call.
    if scope is None or scope.sandbox or scope.task_id != anyio.get_current_task().id:
        return
    from ..tool import sandbox_context

    await scope.stack.enter_async_context(sandbox_context())
    scope.sandbox = True
