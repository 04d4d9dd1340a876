"""Scorers that ask a grader model: ``model_graded_qa`` and ``model_graded_fact``.

The grader is, in order: the ``model`` given, the model the eval binds to
``model_role`` ("grader"), or the model being evaluated. It is asked to end
its reply with ``GRADE: C`` (correct), ``GRADE: I`` (incorrect) or, when
``partial_credit`` offers it, ``GRADE: P`` (partly correct, 0.5). As in Inspect, the
grade is the letter the grader wrote: ``partial_credit`` changes what it is told.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

from .._util._template import format_template
from ..dataset import Target
from ..model import GenerateConfig, Model, get_model
from ..solver import TaskState
from ._metrics import accuracy, stderr
from ._score import CORRECT, INCORRECT, PARTIAL, Score
from ._scorer import Scorer, scorer

QA_TEMPLATE = """You are judging whether a submitted answer to a task meets a criterion.

[Task]
{question}

[Submitted answer]
{answer}

[Criterion]
{criterion}

{instructions}"""

FACT_TEMPLATE = """You are comparing a submitted answer with an expert's answer to a question.

[Question]
{question}

[Expert's answer]
{criterion}

[Submitted answer]
{answer}

Judge only whether the submission states the facts of the expert's answer; ignore
style, wording, grammar and extra detail that does not contradict it.

{instructions}"""

INSTRUCTIONS = """Reason briefly, step by step, then end your reply with a line that reads
exactly "GRADE: C" if the answer is correct or "GRADE: I" if it is not."""

PARTIAL_INSTRUCTIONS = """Reason briefly, step by step, then end your reply with a line that reads
exactly "GRADE: C" if the answer is correct, "GRADE: P" if it is partly correct,
or "GRADE: I" if it is incorrect."""

GRADE_PATTERN = r"(?i)GRADE\s*:\s*([CPI])(.*)$"

GraderModels = Sequence[str | Model] | str | Model | None
History = bool | Callable[[TaskState], str]


@scorer(metrics=[accuracy(), stderr()])
def model_graded_qa(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str | None = None,
    include_history: History = False,
    partial_credit: bool = False,
    model: GraderModels = None,
    model_role: str | None = "grader",
) -> Scorer:
    """Ask a grader model whether the answer meets the target (the criterion).

    The template is filled with ``{question}``, ``{answer}``, ``{criterion}``,
    ``{instructions}`` and the sample's metadata. Several ``model``s vote: the
    most common grade wins (a tie goes to the lower grade).
    """
    return _graded(template or QA_TEMPLATE, instructions, grade_pattern, include_history,
                   partial_credit, model, model_role)


@scorer(metrics=[accuracy(), stderr()])
def model_graded_fact(
    template: str | None = None,
    instructions: str | None = None,
    grade_pattern: str | None = None,
    include_history: History = False,
    partial_credit: bool = False,
    model: GraderModels = None,
    model_role: str | None = "grader",
) -> Scorer:
    """Ask a grader model whether the answer states the facts of the target."""
    return _graded(template or FACT_TEMPLATE, instructions, grade_pattern, include_history,
                   partial_credit, model, model_role)


def _graded(template: str, instructions: str | None, grade_pattern: str | None,
            include_history: History, partial_credit: bool, model: GraderModels,
            model_role: str | None) -> Scorer:
    told = instructions or (PARTIAL_INSTRUCTIONS if partial_credit else INSTRUCTIONS)
    grade = re.compile(grade_pattern or GRADE_PATTERN, re.MULTILINE)
    named = [] if model is None else (
        [model] if isinstance(model, (str, Model)) else list(model))
    graders = [get_model(m) for m in named]  # one Model each, shared by every sample

    async def score(state: TaskState, target: Target) -> Score:
        values = {**state.metadata, "question": _question(state, include_history),
                  "answer": state.output.completion, "criterion": target.text,
                  "instructions": told}
        prompt = format_template(template, values)
        verdicts = []
        for grader in graders or [_role_grader(model_role)]:
            output = await grader.generate(prompt, config=GenerateConfig(temperature=0.0))
            verdicts.append((_grade(grade, output.completion),
                             output.completion))
        value = _vote([v for v, _ in verdicts])
        explanation = "\n\n".join(text for _, text in verdicts)
        return Score(value=value, answer=state.output.completion, explanation=explanation)

    return score


def _role_grader(model_role: str | None) -> Model:
    # The model bound to the role, else the evaluated model, shared with the solver
    # (its connections, its mock outputs): a new Model per sample would open a pool.
    return get_model(role=model_role) if model_role else get_model()


def _question(state: TaskState, include_history: History) -> str:
    if callable(include_history):
        return include_history(state)
    if include_history:
        return "\n\n".join(f"{m.role}: {m.text}" for m in state.messages)
    return state.input_text


def _grade(pattern: re.Pattern[str], reply: str) -> str:
    """The grade in ``reply`` (its last match): C/P/I in any case as the score letters,
    other text a custom ``grade_pattern`` captured as is; INCORRECT when none."""
    found = list(pattern.finditer(reply))
    if not found:
        return INCORRECT
    grade = (found[-1].group(1) if pattern.groups else found[-1].group(0)).strip()
    return grade.upper() if grade.upper() in (CORRECT, PARTIAL, INCORRECT) else grade


def _vote(grades: list[str]) -> str:
    """The most common grade; a tie goes to the lowest (I before P before C)."""
    counts = Counter(grades)
    most = max(counts.values())
    rank = {INCORRECT: 0, PARTIAL: 1, CORRECT: 2}
    return min((g for g, n in counts.items() if n == most), key=lambda g: (rank.get(g, -1), g))
