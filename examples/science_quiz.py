"""A multiple-choice quiz filtered by subject, answered with chain of thought.

    evalkit eval examples/science_quiz.py --model mockllm/model
    evalkit eval examples/science_quiz.py -T subjects=astronomy,biology --model openai/gpt-4o-mini

As in an MMLU-style task, ``-T subjects=a,b`` picks subjects; a subject that
matches nothing is an error, not an empty success.
"""

from evalkit import Task, task
from evalkit.dataset import FieldSpec, json_dataset
from evalkit.scorer import choice
from evalkit.solver import multiple_choice


@task
def science_quiz(subjects: str | list[str] = "all", cot: bool = True) -> Task:
    """Science questions, four options each; ``subjects`` filters by the subject field."""
    dataset = json_dataset("data/science_quiz.jsonl",
                           FieldSpec(input="question", metadata=["subject"]))
    wanted = [subjects] if isinstance(subjects, str) else subjects
    if wanted != ["all"]:
        dataset = dataset.filter(lambda sample: sample.metadata["subject"] in wanted)
    return Task(dataset=dataset, solver=multiple_choice(cot=cot), scorer=choice())
