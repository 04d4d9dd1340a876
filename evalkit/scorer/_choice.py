"""``choice()``: score the options ``multiple_choice`` marked against the target letters."""

from __future__ import annotations

from ..dataset import Target
from ..solver import Choices, TaskState, answer_character
from ._metrics import accuracy, stderr
from ._score import CORRECT, INCORRECT, Score
from ._scorer import Scorer, scorer


@scorer(metrics=[accuracy(), stderr()])
def choice() -> Scorer:
    """Correct when the options the model picked are exactly the target's.

    The target names options by letter ("B", or ["A", "C"]) in the dataset's
    order, so shuffling the options shown to the model changes nothing. A
    target that is an option's text (not a letter) names that option.
    """

    async def score(state: TaskState, target: Target) -> Score:
        picked = sorted(answer_character(c.original_position) for c in state.choices
                        if c.correct is True)
        wanted = sorted(_target_letters(target, state.choices))
        return Score(value=CORRECT if picked and picked == wanted else INCORRECT,
                     answer=", ".join(picked), explanation=state.output.completion)

    return score


def _target_letters(target: Target, choices: Choices) -> set[str]:
    by_text = {c.value.strip(): answer_character(c.original_position) for c in choices}
    letters = set()
    for item in target:
        text = item.strip()
        if len(text) == 1 and text.isalpha():
            letters.add(text.upper())
        elif text in by_text:
            letters.add(by_text[text])
        else:
            letters.update(letter.strip().upper() for letter in text.split(",") if letter.strip())
    return letters
