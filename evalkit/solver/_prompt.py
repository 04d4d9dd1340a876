"""Prompt solvers: ``prompt_template``, ``user_message``, ``assistant_message``,
``chain_of_thought``.

Templates are filled from the sample's metadata, then ``state.store``, then
the solver's own ``params`` (later sources win), with unknown ``{name}``s
left as written (see ``evalkit._util._template``).
"""

from __future__ import annotations

from typing import Any

from .._util._template import format_template
from ..model import ChatMessageAssistant, ChatMessageUser
from ._solver import Generate, Solver, solver
from ._state import TaskState

DEFAULT_COT_TEMPLATE = """{prompt}

Think it through step by step before you answer. Finish with your answer on a
line of its own, written as "ANSWER: $ANSWER" (no quotes), where $ANSWER is
your answer."""


def template_values(state: TaskState, params: dict[str, Any]) -> dict[str, Any]:
    """What a template in a solver can name: metadata, then store, then params."""
    return {**state.metadata, **dict(state.store.items()), **params}


@solver
def prompt_template(template: str, **params: Any) -> Solver:
    """Rewrite the user prompt with ``template``; ``{prompt}`` is the prompt it replaces."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        prompt = state.user_prompt
        values = {**template_values(state, params), "prompt": prompt.text}
        prompt.text = format_template(template, values)
        return state

    return solve


@solver
def user_message(template: str, **params: Any) -> Solver:
    """Append a user message made from ``template``."""
    return _append_message(ChatMessageUser, template, params)


@solver
def assistant_message(template: str, **params: Any) -> Solver:
    """Append an assistant message made from ``template`` (e.g. a few-shot answer)."""
    return _append_message(ChatMessageAssistant, template, params)


def _append_message(kind: type[ChatMessageUser | ChatMessageAssistant], template: str,
                    params: dict[str, Any]) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        content = format_template(template, template_values(state, params))
        state.messages.append(kind(content=content))
        return state

    return solve


@solver
def chain_of_thought(template: str = DEFAULT_COT_TEMPLATE) -> Solver:
    """Ask for step-by-step reasoning before an ``ANSWER: ...`` line."""
    return prompt_template(template)
