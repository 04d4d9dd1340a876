"""Arithmetic: the model adds two numbers; ``match(numeric=True)`` checks the last number.

    evalkit eval examples/arithmetic.py --model mockllm/model
    evalkit eval examples/arithmetic.py -T n=200 --model openai/gpt-4o-mini
"""

import random

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import match
from evalkit.solver import generate


@task
def arithmetic(n: int = 20, seed: int = 0) -> Task:
    """``n`` addition problems, the same ones for the same ``seed``."""
    rng = random.Random(seed)
    samples = []
    for index in range(n):
        a, b = rng.randint(1, 999), rng.randint(1, 999)
        samples.append(Sample(id=index + 1, input=f"What is {a} + {b}? Answer with the number.",
                              target=str(a + b)))
    return Task(dataset=samples, solver=generate(), scorer=match(numeric=True))
