"""The loop shared by ``basic_agent`` and ``react``: generate, run tools, until submit."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model import ChatCompletionChoice, ChatMessageUser, ModelOutput, ToolCall
from ._answer_scoring import score_submission
from ._limits import SampleLimits, check_growth, check_messages, check_tokens
from ._solver import Generate
from ._state import TaskState

if TYPE_CHECKING:
    from ..tool import Tool

ContinueMessage = Callable[[TaskState], Awaitable[bool | str]]
"""Called when the model replies without a tool call: True or a message to go on
(the message is sent as a user message), False to stop."""
IncorrectMessage = Callable[[TaskState, Any], str | Awaitable[str]]
"""Called with the state and the Score of a wrong submission: what to tell the model."""


@dataclass(frozen=True)
class AgentLoop:
    """How one agent runs: its submit tool, attempts, messages and own limits."""

    submit_name: str | None
    """None: no submit tool; the agent ends when the model stops calling tools."""
    continue_message: str | ContinueMessage
    max_attempts: int = 1
    incorrect_message: str | IncorrectMessage = ""
    score_value: Callable[[Any], float] | None = None
    append_answer: bool = False
    """Put the answer after the model's own text in the completion (else the answer only)."""
    answer_delimiter: str = "\n\n"
    limits: SampleLimits = field(default_factory=SampleLimits)


async def run_agent(loop: AgentLoop, state: TaskState, generate: Generate) -> TaskState:
    """Call the model and run its tools until it submits (or, without a submit tool,
    stops calling tools), retrying a wrong submission while attempts remain."""
    attempts = 0
    while not state.completed:
        check_messages(state, loop.limits)
        state = await generate(state, tool_calls="none")
        check_tokens(loop.limits)
        calls = state.output.message.tool_calls
        if not calls:
            if loop.submit_name is None or not await _go_on(loop, state):
                break
            continue
        answer = await _run_calls(state, calls, loop)
        if answer is None:
            continue
        state.output = _with_completion(state.output, answer, loop)
        attempts += 1
        if attempts >= loop.max_attempts:
            break
        correct, score = await score_submission(state, loop.score_value)
        if correct:
            break
        state.messages.append(ChatMessageUser(content=await _incorrect(loop, state, score)))
    return state


async def _go_on(loop: AgentLoop, state: TaskState) -> bool:
    """Send the continue message; False when a callable said to stop."""
    wanted = loop.continue_message
    message = wanted if isinstance(wanted, str) else await wanted(state)
    if message is False:
        return False
    if message is True:
        message = _default_continue(loop.submit_name)
    state.messages.append(ChatMessageUser(content=message))
    return True


def _default_continue(submit_name: str | None) -> str:
    return (f"Carry on with the task using your tools. When you have the final answer, "
            f"call {submit_name}() with it.")


async def _run_calls(state: TaskState, calls: list[ToolCall], loop: AgentLoop) -> str | None:
    """Run each call in order, appending its result; the submitted answer, if any."""
    from ..tool import execute_tools

    answer: str | None = None
    for call in calls:
        # No tool runs whose result has no room in the conversation (the sample's
        # max_messages, or the agent's own message_limit).
        check_growth(len(state.messages), len(state.messages) + 1)
        check_messages(state, loop.limits)
        [result] = await execute_tools([call], state.tools)
        state.messages.append(result)
        if call.function == loop.submit_name and result.error is None:
            # The argument itself (a tool result may be truncated); a custom submit
            # tool without an `answer` parameter gives its result.
            answer = str(call.arguments.get("answer", result.content))
    return answer


def _with_completion(output: ModelOutput, answer: str, loop: AgentLoop) -> ModelOutput:
    """A copy of ``output`` whose completion is the submitted answer (the conversation
    keeps the model's own message as it was)."""
    output = output.model_copy(deep=True)
    if not output.choices:
        output.choices = [ChatCompletionChoice(message=ModelOutput.from_content(
            output.model, "").message)]
    message = output.choices[0].message
    own = message.content.strip()
    message.content = (f"{own}{loop.answer_delimiter}{answer}" if loop.append_answer and own
                       else answer)
    return output


async def _incorrect(loop: AgentLoop, state: TaskState, score: Any) -> str:
    message = loop.incorrect_message
    if isinstance(message, str):
        return message
    text = message(state, score)
    return await text if inspect.isawaitable(text) else text


def submit_tool(name: str, description: str) -> Tool:
    """The tool the model calls with its final answer (it returns the answer)."""
    from ..tool import ToolDef

    async def submit(answer: str) -> str:
        return answer

    return ToolDef(submit, name=name, description=description,
                   parameters={"answer": "Your final answer."}).as_tool()
