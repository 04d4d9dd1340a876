"""``multiple_choice``: ask a lettered question, then mark the options the model picked."""

from __future__ import annotations

import random
import re
from enum import Enum

from ..model import GenerateConfig
from ._choices import answer_index
from ._solver import Generate, Solver, solver
from ._state import TaskState


class MultipleChoiceTemplate(str, Enum):
    """The built-in prompts; each holds ``{question}``, ``{choices}`` and ``{letters}``."""

    SINGLE_ANSWER = (
        "Answer this multiple choice question. Reply with nothing but 'ANSWER: $LETTER' "
        "(no quotes), where $LETTER is one of {letters}.\n\n{question}\n\n{choices}")
    SINGLE_ANSWER_COT = (
        "Answer this multiple choice question. Think it through step by step, then end "
        "with a last line 'ANSWER: $LETTER' (no quotes), where $LETTER is one of "
        "{letters}.\n\n{question}\n\n{choices}")
    MULTIPLE_ANSWER = (
        "Answer this multiple choice question; more than one option may be right. Reply "
        "with nothing but 'ANSWER: $LETTERS' (no quotes), where $LETTERS lists every right "
        "option among {letters}, e.g. 'ANSWER: A, C'.\n\n{question}\n\n{choices}")
    MULTIPLE_ANSWER_COT = (
        "Answer this multiple choice question; more than one option may be right. Think "
        "it through step by step, then end with a last line 'ANSWER: $LETTERS' (no quotes), "
        "where $LETTERS lists every right option among {letters}, e.g. 'ANSWER: A, C'."
        "\n\n{question}\n\n{choices}")


_ANSWER_LINE = re.compile(r"answer\s*:\s*([^\n]*)", re.IGNORECASE)
_LETTERS_ONLY = re.compile(r"[A-Z]+")
_LONE_LETTER = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")


@solver
def multiple_choice(
    *,
    template: str | None = None,
    cot: bool = False,
    multiple_correct: bool = False,
    shuffle: bool | random.Random = False,
    max_tokens: int | None = None,
) -> Solver:
    """Put the sample's choices to the model as lettered options and call it.

    The options the model's ``ANSWER:`` line names are marked on
    ``state.choices`` for the ``choice()`` scorer. ``shuffle`` shows them in a
    random order (the scorer still compares original positions).
    """
    if template is not None and not ("{question}" in template and "{choices}" in template):
        raise ValueError("a multiple_choice template needs {question} and {choices} "
                         "placeholders (and may use {letters})")
    prompt_template = str(template if template is not None else _default_template(
        cot, multiple_correct).value)
    rand = random.Random() if shuffle is True else (shuffle or None)
    config = GenerateConfig(max_tokens=max_tokens) if max_tokens is not None else None

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if not state.choices:
            raise ValueError("multiple_choice needs samples with choices (Sample(choices=...))")
        if rand is not None:
            state.choices.shuffle(rand)
        state.user_prompt.text = state.choices.prompt(state.user_prompt.text, prompt_template)
        state = await generate(state, config=config)
        picked = parse_answer(state.output.completion, len(state.choices), multiple_correct)
        if picked is not None:
            for index in range(len(state.choices)):
                state.choices.mark_choice(index, index in picked)
        return state

    return solve


def _default_template(cot: bool, multiple_correct: bool) -> MultipleChoiceTemplate:
    if multiple_correct:
        return (MultipleChoiceTemplate.MULTIPLE_ANSWER_COT if cot
                else MultipleChoiceTemplate.MULTIPLE_ANSWER)
    return MultipleChoiceTemplate.SINGLE_ANSWER_COT if cot else MultipleChoiceTemplate.SINGLE_ANSWER


def parse_answer(completion: str, options: int, multiple_correct: bool) -> set[int] | None:
    """The option indexes the last ``ANSWER:`` line names (or a bare letter reply).

    ``None`` when the reply names no valid option, so nothing is marked.
    """
    lines = _ANSWER_LINE.findall(completion)
    text = lines[-1].strip() if lines else completion.strip().rstrip(".)")
    if not lines and len(text) != 1:
        return None
    candidate = text.rstrip(".) ").lstrip("( ")
    if len(candidate) == 1 and candidate.isalpha():
        letters = [candidate.upper()]
    elif _LETTERS_ONLY.fullmatch(candidate) and multiple_correct:
        letters = list(candidate)
    else:
        letters = _LONE_LETTER.findall(text)
    valid = [answer_index(letter) for letter in letters if answer_index(letter) < options]
    if not valid:
        return None
    return set(valid) if multiple_correct else {valid[0]}


