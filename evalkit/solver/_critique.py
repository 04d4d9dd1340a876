"""``self_critique``: the model critiques its answer, then answers again."""

from __future__ import annotations

from .._util._template import format_template
from ..model import ChatMessageUser, Model, get_model
from ._solver import Generate, Solver, solver
from ._state import TaskState

DEFAULT_CRITIQUE_TEMPLATE = """Here is a question and an answer to it.

[Question]
{question}

[Answer]
{completion}

Criticise the answer: point out anything wrong, missing or unclear. If it is
fully correct, say so and suggest nothing."""

DEFAULT_CRITIQUE_COMPLETION_TEMPLATE = """Here is a question, your earlier answer and a
critique of that answer.

[Question]
{question}

[Your answer]
{completion}

[Critique]
{critique}

Taking the critique into account, answer the question again."""


@solver
def self_critique(
    critique_template: str | None = None,
    completion_template: str | None = None,
    model: str | Model | None = None,
) -> Solver:
    """Ask ``model`` (default: the evaluated one) to critique the answer, then regenerate.

    Templates may name ``{question}``, ``{completion}``, ``{critique}`` (the
    second only) and any sample metadata.
    """
    critique_text = critique_template or DEFAULT_CRITIQUE_TEMPLATE
    completion_text = completion_template or DEFAULT_CRITIQUE_COMPLETION_TEMPLATE

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        critic = get_model(model)
        values = {**state.metadata, "question": state.input_text,
                  "completion": state.output.completion}
        critique = await critic.generate(format_template(critique_text, values))
        values["critique"] = critique.completion
        state.messages.append(ChatMessageUser(content=format_template(completion_text, values)))
        return await generate(state)

    return solve
