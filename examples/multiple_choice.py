"""Multiple choice from a bundled JSON-lines file, scored on the letter after ``ANSWER:``.

    evalkit eval examples/multiple_choice.py --model mockllm/model
"""

from pathlib import Path

from evalkit import Task, task
from evalkit.dataset import FieldSpec, json_dataset
from evalkit.scorer import pattern
from evalkit.solver import Generate, Solver, TaskState, generate, solver

DATA = Path(__file__).parent / "data" / "capitals.jsonl"

TEMPLATE = """Answer the following multiple choice question. Reply with a line of the form
'ANSWER: $LETTER' where $LETTER is one of {letters}.

{question}

{choices}"""


@solver
def multiple_choice_prompt() -> Solver:
    """Rewrite the user prompt to list the choices as lettered options."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        choices = state.choices or []
        letters = [chr(ord("A") + i) for i in range(len(choices))]
        state.user_prompt.content = TEMPLATE.format(
            letters=", ".join(letters), question=state.input_text,
            choices="\n".join(f"{letter}) {text}" for letter, text in zip(letters, choices, strict=False)),
        )
        return state

    return solve


@task
def multiple_choice(shuffle: bool = False) -> Task:
    """Capital cities, four options each."""
    dataset = json_dataset(DATA, FieldSpec(input="question", target="answer"), shuffle=shuffle)
    return Task(dataset=dataset, solver=[multiple_choice_prompt(), generate()],
                scorer=pattern(r"ANSWER\s*:\s*([A-D])"))
