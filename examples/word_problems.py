"""Grade-school word problems with a few-shot prompt, scored on the final number.

    evalkit eval examples/word_problems.py --model mockllm/model
    evalkit eval examples/word_problems.py -T fewshot=0 --model openai/gpt-4o-mini

The few-shot examples are taken from the same file and left out of the
questions asked, as a GSM8K-style task does.
"""

from evalkit import Task, task
from evalkit.dataset import Sample, json_dataset
from evalkit.scorer import match
from evalkit.solver import generate, prompt_template, system_message

PROMPT = """Solve the problem. Show your working, then give the final answer on a
line of its own as "ANSWER: <number>".

{prompt}"""


def to_sample(record: dict[str, str]) -> Sample:
    return Sample(id=record["id"], input=record["question"], target=record["answer"],
                  metadata={"working": record["working"]})


@task
def word_problems(fewshot: int = 2) -> Task:
    """Word problems; ``fewshot`` solved examples go in the system message."""
    dataset = json_dataset("data/word_problems.jsonl", to_sample)
    shots, questions = dataset[:fewshot], dataset[fewshot:]
    examples = "\n\n".join(
        f"Problem: {s.input}\nWorking: {s.metadata['working']}\nANSWER: {s.target}"
        for s in shots)
    solver = [prompt_template(PROMPT), generate()]
    if examples:
        solver.insert(0, system_message("Here are solved examples.\n\n" + examples))
    return Task(dataset=questions, solver=solver, scorer=match(numeric=True))
