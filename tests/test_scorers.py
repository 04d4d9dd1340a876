"""Built-in scorers and metrics."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from evalkit.dataset import Target
from evalkit.model import ModelOutput
from evalkit.scorer import (
    CORRECT,
    INCORRECT,
    SampleScore,
    Score,
    Scorer,
    accuracy,
    exact,
    includes,
    match,
    mean,
    pattern,
    stderr,
    value_to_float,
)
from evalkit.solver import TaskState


def _state(answer: str) -> TaskState:
    state = TaskState(model="mockllm/model", sample_id=1, epoch=1, input="q",
                      target=Target(""), messages=[])
    state.output = ModelOutput.from_content("mockllm/model", answer)
    return state


async def _score(scorer: Scorer, answer: str, target: str | list[str]) -> Score:
    return await scorer(_state(answer), Target(target))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("scorer", "answer", "target", "expected"),
    [
        (match(), "The answer is Paris.", "paris", CORRECT),
        (match(), "Paris is the answer", "paris", INCORRECT),
        (match("begin"), "Paris is the answer", "paris", CORRECT),
        (match("any"), "I think Paris, yes", "Paris", CORRECT),
        (match(numeric=True), "so 1,234 in total.", "1234", CORRECT),
        (match(numeric=True), "so 12 then 13", "12", INCORRECT),
        (includes(), "The capital is PARIS", "paris", CORRECT),
        (includes(ignore_case=False), "The capital is PARIS", "paris", INCORRECT),
        (includes(), "Rome", ["paris", "rome"], CORRECT),
        (exact(), "  hello   world ", "hello world", CORRECT),
        (exact(), "The Hello, world!", "hello world", CORRECT),  # Inspect: SQuAD normalising
        (exact(), "hello there world", "hello world", INCORRECT),
        (pattern(r"ANSWER:\s*([A-D])"), "thinking... ANSWER: b", "B", CORRECT),
        (pattern(r"ANSWER:\s*([A-D])"), "no answer here", "B", INCORRECT),
    ],
)
async def test_builtin_scorers(
    scorer: Scorer, answer: str, target: str | list[str], expected: str
) -> None:
    """Each built-in scorer gives the verdict its rule implies."""
    assert (await _score(scorer, answer, target)).value == expected


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("location", "answer", "target", "expected"),
    [
        ("end", "ANSWER: $15.00", "15", CORRECT),
        ("end", "The total is 1,234,567.", "1234567", CORRECT),
        ("end", "It costs \u20ac20!", "20", CORRECT),
        ("end", "so it is (42)", "42", CORRECT),
        ("end", "15", "$15.00", CORRECT),
        ("end", "\u22127 degrees", "-7", CORRECT),
        ("exact", " 15.0 ", "15", CORRECT),
        ("any", "about .5 of 3", "0.5", CORRECT),
        ("begin", "3 apples and 4 pears", "3", CORRECT),
        ("end", "3 apples and 4 pears", "3", INCORRECT),
        ("end", "25", "5", INCORRECT),
        ("end", "60%", "60", INCORRECT),
        ("exact", "15 dollars", "15", INCORRECT),
        ("end", "no number here", "7", INCORRECT),
    ],
)
async def test_match_numeric_reads_numbers_as_people_write_them(
    location: str, answer: str, target: str, expected: str
) -> None:
    """match(numeric=True) ignores currency signs, thousands separators, trailing zeros
    and punctuation, and compares the number at `location` by value."""
    scorer = match(location, numeric=True)  # type: ignore[arg-type]  # a location literal
    assert (await _score(scorer, answer, target)).value == expected


@pytest.mark.parametrize(
    ("value", "number"),
    [("C", 1.0), ("I", 0.0), ("P", 0.5), ("N", 0.0), (True, 1.0), (0.25, 0.25), ("yes", 1.0),
     ("0.75", 0.75)],
)
def test_value_to_float(value: object, number: float) -> None:
    """Score values convert to the numbers metrics use (Inspect's form: a factory)."""
    assert value_to_float()(value) == number  # type: ignore[arg-type]  # Value union


def test_value_to_float_takes_other_letters() -> None:
    """value_to_float(correct=..., incorrect=...) reads a scorer's own verdict words."""
    to_float = value_to_float(correct="pass", incorrect="fail")
    assert (to_float("pass"), to_float("fail"), to_float(True)) == (1.0, 0.0, 1.0)


def test_value_to_float_refuses_text() -> None:
    """A free-text value cannot silently become a number."""
    with pytest.raises(ValueError, match="cannot be read as a number"):
        value_to_float()("maybe")


def test_metrics() -> None:
    """accuracy and mean average; stderr is the standard error of the mean."""
    def scores(*values: float) -> list[SampleScore]:
        return [SampleScore(score=Score(value=v), sample_id=i) for i, v in enumerate(values)]

    values = scores(1.0, 0.0, 1.0, 1.0)
    assert accuracy()(values) == 0.75 and mean()(values) == 0.75
    assert math.isclose(stderr()(values), 0.5 / math.sqrt(4))  # type: ignore[arg-type]
    assert stderr()(scores(1.0)) == 0.0 and math.isnan(accuracy()([]))  # type: ignore[arg-type]


def test_model_graded_qa_grades_with_the_evaluated_model(log_dir: object) -> None:
    """Without a grader model, model_graded_qa asks the evaluated model itself (its
    connections and its mock outputs), not a fresh model per sample."""
    from evalkit import Task, eval
    from evalkit.dataset import Sample
    from evalkit.scorer import model_graded_qa

    def answer(messages: list) -> str:  # type: ignore[type-arg]  # any message list
        prompt = messages[-1].content
        return "Correct.\nGRADE: C" if "[Criterion]" in prompt else "Paris"

    task = Task(dataset=[Sample(input="Capital of France?", target="Paris")],
                scorer=model_graded_qa())
    [log] = eval(task, model="mockllm/model", model_args={"custom_outputs": answer},
                 display="none")
    assert log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == 1.0


def test_nan_score_round_trips_through_the_log(log_dir: Path) -> None:
    """A NaN score (logged as null: JSON has no NaN) reads back as NaN; the log stays
    readable; the sample is unscored, so the metric has no value."""
    from evalkit import Task, eval
    from evalkit.dataset import Sample
    from evalkit.log import read_eval_log
    from evalkit.scorer import Score, accuracy, scorer

    @scorer(metrics=[accuracy()])
    def not_a_number() -> Scorer:
        async def score(state: TaskState, target: Target) -> Score:
            return Score(value=float("nan"))

        return score

    task = Task(dataset=[Sample(input="a", target="a")], scorer=not_a_number())
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none")
    read = read_eval_log(str(log.location))
    [sample] = read.samples or []
    value = (sample.scores or {})["not_a_number"].value
    assert isinstance(value, float) and math.isnan(value)
    assert read.results is not None
    assert read.results.scores[0].metrics["accuracy"].value is None
