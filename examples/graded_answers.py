"""Free-text answers graded by a model against a reference answer.

    evalkit eval examples/graded_answers.py --model mockllm/model
    evalkit eval examples/graded_answers.py --model openai/gpt-4o-mini \\
        --model-role grader=openai/gpt-4o

The grader is the ``grader`` model role when one is given, else the model
being evaluated.
"""

from evalkit import Task, task
from evalkit.dataset import json_dataset
from evalkit.scorer import model_graded_qa
from evalkit.solver import generate, system_message


@task
def graded_answers() -> Task:
    """Short "why" questions with reference explanations."""
    return Task(dataset=json_dataset("data/short_answers.jsonl"),
                solver=[system_message("Answer in one or two sentences."), generate()],
                scorer=model_graded_qa())
