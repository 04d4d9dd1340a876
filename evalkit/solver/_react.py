"""``react``: Inspect's ReAct agent, as a solver; ended by ``submit()``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..model import ChatMessageSystem
from ._agent_loop import AgentLoop, ContinueMessage, IncorrectMessage, run_agent, submit_tool
from ._basic import as_tools
from ._solver import Generate, Solver, solver
from ._state import TaskState

if TYPE_CHECKING:
    from ..tool import Tool, ToolDef

REACT_ASSISTANT_PROMPT = (
    "You solve tasks by alternating between reasoning and acting: think about what "
    "you need, call a tool, read its result, and repeat. Prefer checking a fact with a "
    "tool over guessing it."
)
REACT_SUBMIT_PROMPT = (
    "When you have the final answer, call {submit}() with it. Calling it ends your "
    "work, so only call it once you are done."
)
REACT_CONTINUE_MESSAGE = (
    "Continue with the task using your tools. If you have the final answer, call "
    "{submit}() with it."
)
REACT_INCORRECT_MESSAGE = (
    "Your submission was checked and it is not correct. Look for what went wrong, "
    "then submit a new answer."
)


@dataclass(frozen=True)
class AgentPrompt:
    """The system message of ``react``: instructions, then how to work, then how to submit.

    Any part set to None is left out; ``{submit}`` is replaced by the submit tool's name.
    """

    instructions: str | None = None
    handoff_prompt: str | None = None
    """Accepted for Inspect compatibility; evalkit has no agent handoffs."""
    assistant_prompt: str | None = REACT_ASSISTANT_PROMPT
    submit_prompt: str | None = REACT_SUBMIT_PROMPT


@dataclass(frozen=True)
class AgentAttempts:
    """How many submissions ``react`` may make; each but the last is scored."""

    attempts: int = 1
    incorrect_message: str | IncorrectMessage = REACT_INCORRECT_MESSAGE
    score_value: Callable[[Any], float] | None = None
    """A Score value as a number (default: C/I, yes/no, numbers...); 1.0 is correct."""


@dataclass(frozen=True)
class AgentSubmit:
    """The tool ``react`` ends on, and how its answer becomes the completion."""

    name: str | None = None
    """Default ``submit``."""
    description: str | None = None
    tool: Tool | None = None
    """A tool of your own to submit with (its result, or ``answer`` argument, is the answer)."""
    answer_only: bool = False
    """The completion is the answer alone, not the model's text followed by it."""
    answer_delimiter: str = "\n\n"
    keep_in_messages: bool = True
    """evalkit always keeps the submit call and its result in the conversation."""


@solver
def react(
    *,
    name: str | None = None,
    description: str | None = None,
    prompt: str | AgentPrompt | None = AgentPrompt(),
    tools: Sequence[Tool | ToolDef] | None = None,
    model: Any = None,
    attempts: int | AgentAttempts = 1,
    submit: AgentSubmit | bool | None = None,
    on_continue: str | ContinueMessage | None = None,
) -> Solver:
    """A ReAct loop: the model reasons and calls ``tools`` until it calls ``submit()``.

    ``prompt`` becomes a system message (a string is the instructions).
    ``submit=False`` drops the submit tool: the agent ends when the model
    replies without tool calls. ``on_continue`` is the message sent when the
    model replies without a tool call (or an async function of the state
    returning True, False to stop, or a message). With ``attempts`` > 1 each
    submission is scored with the task's first scorer. ``model`` must be None:
    the agent uses the eval's model.
    """
    if model is not None:
        raise UsageError("react(model=...) is not supported: the agent uses the eval's model")
    tries = attempts if isinstance(attempts, AgentAttempts) else AgentAttempts(attempts)
    if tries.attempts < 1:
        raise UsageError(f"react: attempts must be >= 1, got {tries.attempts}")
    spec = AgentSubmit() if submit is None or submit is True else submit
    submit_name = None if spec is False else (spec.name or "submit")
    own_tools = as_tools(tools or [])
    if spec is not False:
        own_tools.append(_submit(spec, submit_name or "submit"))
    loop = AgentLoop(
        submit_name=submit_name,
        continue_message=_continue(on_continue, submit_name),
        max_attempts=tries.attempts, incorrect_message=tries.incorrect_message,
        score_value=tries.score_value,
        append_answer=spec is not False and not spec.answer_only,
        answer_delimiter="" if spec is False else spec.answer_delimiter,
    )
    system = _system_message(prompt, submit_name)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if system:
            position = sum(1 for m in state.messages if isinstance(m, ChatMessageSystem))
            state.messages.insert(position, ChatMessageSystem(content=system))
        state.tools = [*own_tools]
        return await run_agent(loop, state, generate)

    return solve


def _submit(spec: AgentSubmit, name: str) -> Tool:
    if spec.tool is None:
        return submit_tool(name, spec.description or "Submit your final answer.")
    from ..tool import ToolDef

    return ToolDef(spec.tool, name=name, description=spec.description).as_tool()


def _continue(on_continue: str | ContinueMessage | None, submit_name: str | None
              ) -> str | ContinueMessage:
    message = REACT_CONTINUE_MESSAGE if on_continue is None else on_continue
    return message.replace("{submit}", submit_name or "submit") if isinstance(
        message, str) else message


def _system_message(prompt: str | AgentPrompt | None, submit_name: str | None) -> str:
    if prompt is None:
        return ""
    parts = AgentPrompt(instructions=prompt) if isinstance(prompt, str) else prompt
    submit_part = parts.submit_prompt if submit_name is not None else None
    text = "\n\n".join(part for part in (parts.instructions, parts.assistant_prompt,
                                         submit_part) if part)
    return text.replace("{submit}", submit_name or "submit")
