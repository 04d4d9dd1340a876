"""A system message and a custom scorer: is the reply polite and short enough?

    evalkit eval examples/polite.py --model mockllm/model
"""

from evalkit import Task, task
from evalkit.dataset import Sample, Target
from evalkit.scorer import Score, Scorer, mean, scorer
from evalkit.solver import TaskState, generate, system_message

POLITE_WORDS = ("please", "thank", "sorry", "glad", "happy to", "output")


@scorer(metrics=[mean()])
def politeness(max_words: int = 50) -> Scorer:
    """1.0 for a polite reply within ``max_words``, 0.5 for one of the two, else 0."""

    async def score(state: TaskState, target: Target) -> Score:
        reply = state.output.completion
        polite = any(word in reply.lower() for word in POLITE_WORDS)
        short = len(reply.split()) <= max_words
        return Score(value=(polite + short) / 2, answer=reply,
                     explanation=f"polite={polite} short={short}")

    return score


@task
def polite(max_words: int = 50) -> Task:
    """Customer-service requests answered under a politeness system prompt."""
    requests = [
        "My order arrived broken.",
        "Where is my refund?",
        "Can I change my delivery address?",
        "Your app keeps crashing.",
        "I was charged twice.",
    ]
    return Task(
        dataset=[Sample(id=i + 1, input=text) for i, text in enumerate(requests)],
        solver=[system_message("You are a courteous support agent. Keep answers under "
                               "{max_words} words.", max_words=max_words), generate()],
        scorer=politeness(max_words),
    )
