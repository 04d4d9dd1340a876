"""``basic_agent``: Inspect's classic tool-use agent, ended by a ``submit()`` call."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ._agent_loop import AgentLoop, IncorrectMessage, run_agent, submit_tool
from ._basic import as_tools, system_message
from ._limits import SampleLimits
from ._solver import Generate, Solver, chain, solver
from ._state import TaskState

if TYPE_CHECKING:
    from ..tool import Tool, ToolDef

BASIC_AGENT_SYSTEM_MESSAGE = (
    "You are working on a task with a set of tools. Work through it step by step: use "
    "the tools to find out what you need and to check your results. When you have the "
    "final answer, call the {submit}() tool with it; the task ends only then."
)
BASIC_AGENT_CONTINUE_MESSAGE = (
    "Keep going: use your tools to make progress on the task. Once you are sure of the "
    "answer, call {submit}() with it."
)
BASIC_AGENT_INCORRECT_MESSAGE = (
    "That answer was marked incorrect. Check the task and your work again, then "
    "submit a corrected answer."
)
BASIC_AGENT_SUBMIT_DESCRIPTION = "Submit your final answer. Call it once, when you are done."


@solver
def basic_agent(
    *,
    init: Solver | list[Solver] | None = None,
    tools: Sequence[Tool | ToolDef] | Solver | None = None,
    cache: bool = False,
    max_attempts: int = 1,
    message_limit: int | None = None,
    token_limit: int | None = None,
    max_tool_output: int | None = None,
    score_value: Callable[[Any], float] | None = None,
    incorrect_message: str | IncorrectMessage = BASIC_AGENT_INCORRECT_MESSAGE,
    continue_message: str = BASIC_AGENT_CONTINUE_MESSAGE,
    submit_name: str = "submit",
    submit_description: str = BASIC_AGENT_SUBMIT_DESCRIPTION,
    submit_append: bool = False,
) -> Solver:
    """A tool loop that ends when the model calls ``submit(answer)``.

    ``init`` runs first (default: a system message about the tools and
    submit); ``tools`` are a list or a solver that sets them (``use_tools``).
    A reply without tool calls gets ``continue_message``. The submitted answer
    becomes the output's completion (after the model's own text with
    ``submit_append``). With ``max_attempts`` > 1 each submission is scored with
    the task's first scorer, and a wrong one is answered with
    ``incorrect_message`` while attempts remain. ``message_limit`` and
    ``token_limit`` stop the agent as the sample limits do (recorded as a
    limit). ``cache`` and ``max_tool_output`` are accepted for Inspect
    compatibility; evalkit has no model cache and tool output is capped at
    MAX_TOOL_OUTPUT.
    """
    if max_attempts < 1:
        raise UsageError(f"basic_agent: max_attempts must be >= 1, got {max_attempts}")
    if cache or max_tool_output is not None:
        warnings.warn("basic_agent: cache= and max_tool_output= have no effect in evalkit "
                      "(no model cache; tool output is capped at MAX_TOOL_OUTPUT)",
                      stacklevel=3)
    setup = _init_solver(init, submit_name)
    submit = submit_tool(submit_name, submit_description)
    loop = AgentLoop(
        submit_name=submit_name,
        continue_message=continue_message.replace("{submit}", submit_name),
        max_attempts=max_attempts, incorrect_message=incorrect_message,
        score_value=score_value, append_answer=submit_append,
        limits=SampleLimits(messages=message_limit, tokens=token_limit),
    )

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await setup(state, generate)
        if isinstance(tools, Sequence):
            state.tools = as_tools(tools)
        elif tools is not None:
            state = await tools(state, generate)
        state.tools = [*state.tools, submit]
        return await run_agent(loop, state, generate)

    return solve


def _init_solver(init: Solver | list[Solver] | None, submit_name: str) -> Solver:
    if init is None:
        return system_message(BASIC_AGENT_SYSTEM_MESSAGE.replace("{submit}", submit_name))
    return chain(*init) if isinstance(init, list) else init
