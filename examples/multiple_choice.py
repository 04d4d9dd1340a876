"""Multiple choice from a bundled JSON-lines file: Inspect's ``multiple_choice`` + ``choice``.

    evalkit eval examples/multiple_choice.py --model mockllm/model
"""

from evalkit import Task, task
from evalkit.dataset import FieldSpec, json_dataset
from evalkit.scorer import choice
from evalkit.solver import multiple_choice


@task
def capitals(shuffle: bool = False) -> Task:
    """Capital cities, four options each; the target is the right option's letter."""
    # A relative path is read from this file's directory, whatever the cwd.
    dataset = json_dataset("data/capitals.jsonl", FieldSpec(input="question", target="answer"),
                           shuffle_choices=7 if shuffle else None)
    return Task(dataset=dataset, solver=multiple_choice(), scorer=choice())
