"""``Choices``: a multiple-choice sample's options, and which the model picked."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

from .._util._template import format_template


@dataclass
class Choice:
    """One option: its text, whether the model chose it, and where the dataset put it."""

    value: str
    correct: bool | None = None
    """``True`` when the model's answer picked it, ``False`` when it did not, else unknown."""
    original_position: int = 0


class Choices(Sequence[Choice]):
    """The options of ``TaskState.choices``, in the order the model sees them."""

    def __init__(self, choices: Sequence[str] | Sequence[Choice]) -> None:
        self._choices = [
            choice if isinstance(choice, Choice) else Choice(value=str(choice),
                                                             original_position=position)
            for position, choice in enumerate(choices)
        ]

    @overload
    def __getitem__(self, index: int) -> Choice: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Choice]: ...

    def __getitem__(self, index: int | slice) -> Choice | Sequence[Choice]:
        return self._choices[index]

    def __len__(self) -> int:
        return len(self._choices)

    def __iter__(self) -> Iterator[Choice]:
        return iter(self._choices)

    def __repr__(self) -> str:
        return f"Choices({self._choices!r})"

    def mark_choice(self, index: int, correct: bool) -> None:
        """Record whether the model picked the option at ``index``."""
        self._choices[index].correct = correct

    def shuffle(self, rand: random.Random | None = None) -> None:
        """Shuffle the options in place; each keeps its ``original_position``."""
        (rand or random.Random()).shuffle(self._choices)

    def prompt(self, question: str, template: str) -> str:
        """``template`` filled with the question, the lettered options and the letters."""
        return format_template(template, {
            "question": question, "choices": answer_options(self),
            "letters": ",".join(answer_character(i) for i in range(len(self)))})


def answer_character(index: int) -> str:
    """0 -> "A", 1 -> "B", ..."""
    return chr(ord("A") + index)


def answer_index(character: str) -> int:
    """"A" -> 0, "b" -> 1, ..."""
    return ord(character.upper()) - ord("A")


def answer_options(choices: Sequence[Choice]) -> str:
    """The options as lines ``A) first``, ``B) second``..."""
    return "\n".join(f"{answer_character(i)}) {choice.value}" for i, choice in enumerate(choices))
