"""Inspect-shaped metrics, reducers and scores: user @metric/@score_reducer, grouped,
dict-valued scores, Task(metrics=...), several epoch reducers, Score.as_*()."""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from evalkit import Epochs, Task, eval, eval_retry
from evalkit.dataset import Sample, Target
from evalkit.log import EvalLog, EvalScore, read_eval_log
from evalkit.scorer import (
    Metric,
    SampleScore,
    Score,
    Scorer,
    ScoreReducer,
    Value,
    accuracy,
    at_least,
    bootstrap_stderr,
    grouped,
    mean,
    metric,
    pass_at,
    score_reducer,
    scorer,
    std,
    stderr,
    var,
)
from evalkit.solver import TaskState


def _by_id(values: dict[int, Any], metrics: Any = None, **metadata: Any) -> Scorer:
    """A scorer giving each sample the value ``values[id]`` (per epoch: a list), with
    ``metadata`` given to ``@scorer``."""

    @scorer(metrics=metrics if metrics is not None else [accuracy()], **metadata)
    def by_id() -> Scorer:
        async def score(state: TaskState, target: Target) -> Score:
            value = values[int(state.sample_id)]
            return Score(value=value[state.epoch - 1] if isinstance(value, list) else value)

        return score

    return by_id()


def _run(task: Task, log_dir: Path) -> EvalLog:
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none")
    assert log.status == "success" and log.results is not None
    return log


def _samples(values: dict[int, Any], metadata: dict[int, dict[str, Any]] | None = None
             ) -> list[Sample]:
    return [Sample(id=i, input=f"q{i}", target="t", metadata=(metadata or {}).get(i, {}))
            for i in values]


@metric
def passed_share() -> Metric:
    """An Inspect-style user metric: reads value, as_float(), sample_id, sample_metadata."""

    def compute(scores: list[SampleScore]) -> Value:
        assert all(s.sample_id is not None for s in scores)
        weights = [s.sample_metadata["weight"] if s.sample_metadata else 1 for s in scores]
        passed = [w for s, w in zip(scores, weights, strict=True) if s.score.value == "C"]
        return sum(passed) / sum(weights)

    return compute


def test_a_user_metric_in_inspect_style_reads_whole_scores(log_dir: Path) -> None:
    """@metric over list[SampleScore] sees values, ids and metadata; NaN left out."""
    values = {1: "C", 2: "I", 3: "C", 4: float("nan")}
    weights = {1: {"weight": 3}, 2: {"weight": 1}, 3: {"weight": 1}, 4: {"weight": 100}}
    task = Task(dataset=_samples(values, weights), scorer=_by_id(values, [passed_share()]))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["passed_share"].value == pytest.approx(4 / 5)
    assert (score.scored_samples, score.unscored_samples) == (3, 1)


def test_a_user_metric_that_raises_has_no_value_and_the_run_succeeds(log_dir: Path) -> None:
    """A bug in a user metric costs that metric's value, not the run or other metrics."""

    @metric(name="broken")
    def broken() -> Metric:
        def compute(scores: list[SampleScore]) -> Value:
            raise ZeroDivisionError("oops")

        return compute

    values = {1: 1.0, 2: 0.0}
    task = Task(dataset=_samples(values), scorer=_by_id(values, [broken(), mean()]))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["broken"].value is None and score.metrics["mean"].value == 0.5


def test_builtin_metrics_var_std_bootstrap() -> None:
    """var/std are the sample statistics; bootstrap_stderr is seeded (same input, same value)."""
    data = [1.0, 0.0, 1.0, 1.0, 0.0]
    scores = [SampleScore(score=Score(value=v), sample_id=i) for i, v in enumerate(data)]
    assert var()(scores) == pytest.approx(statistics.variance(data))
    assert std()(scores) == pytest.approx(statistics.stdev(data))
    first = bootstrap_stderr(200)(scores)
    assert first == bootstrap_stderr(200)(list(reversed(scores)))
    assert 0 < first < 0.5  # type: ignore[operator]  # a float here


def test_grouped_gives_a_value_per_group_and_all(log_dir: Path) -> None:
    """grouped(accuracy(), "subject") gives one value per subject, plus "all"."""
    values = {1: "C", 2: "I", 3: "C", 4: "C", 5: float("nan")}
    subjects = {1: "math", 2: "math", 3: "history", 4: "math", 5: "history"}
    metadata = {i: {"subject": s, "long": "x" * 1000} for i, s in subjects.items()}
    scorer_ = _by_id(values, [grouped(accuracy(), "subject"), stderr()])
    log = _run(Task(dataset=_samples(values, metadata), scorer=scorer_), log_dir)
    [score] = log.results.scores  # type: ignore[union-attr]
    got = {name: m.value for name, m in score.metrics.items()}
    assert got["math"] == pytest.approx(2 / 3) and got["history"] == 1.0
    assert got["all"] == pytest.approx(3 / 4) and "stderr" in got
    read = read_eval_log(str(log.location))
    assert read.results == log.results


def test_grouped_all_groups_and_none() -> None:
    """all="groups" is the mean of the group values; all=False leaves it out."""
    scores = [SampleScore(score=Score(value=v), sample_id=i, sample_metadata={"g": g})
              for i, (v, g) in enumerate([(1, "a"), (0, "a"), (0, "a"), (1, "b")])]
    assert grouped(mean(), "g", all="groups")(scores) == {
        "a": pytest.approx(1 / 3), "b": 1.0, "all": pytest.approx(2 / 3)}
    assert grouped(mean(), "g", all=False)(scores) == {"a": pytest.approx(1 / 3), "b": 1.0}


@scorer(metrics={"correct": [mean(), stderr()], "concise": [mean()]})
def two_keys() -> Scorer:
    """A dict-valued scorer with metrics per key."""

    async def score(state: TaskState, target: Target) -> Score:
        index = int(state.sample_id)
        concise = float("nan") if index == 3 else index % 2
        return Score(value={"correct": 1 if index < 3 else 0, "concise": concise})

    return score


def test_dict_scores_give_metrics_per_key(log_dir: Path) -> None:
    """A dict-valued Score gives one EvalScore per key, each with its own metrics."""
    log = _run(Task(dataset=_samples({1: 0, 2: 0, 3: 0, 4: 0}), scorer=two_keys()), log_dir)
    scores = {s.name: s for s in log.results.scores}  # type: ignore[union-attr]
    assert set(scores) == {"correct", "concise"}
    assert scores["correct"].scorer == "two_keys"
    assert scores["correct"].metrics["mean"].value == 0.5
    assert set(scores["concise"].metrics) == {"mean"}
    assert scores["concise"].metrics["mean"].value == pytest.approx(1 / 3)
    assert scores["concise"].unscored_samples == 1


def test_task_metrics_replace_the_scorers_own(log_dir: Path) -> None:
    """Task(metrics=list) replaces every scorer's metrics; a dict gives them per key
    (a glob), and a list may mix both."""
    data = {1: 0, 2: 0, 3: 0, 4: 0}
    as_list = _run(Task(dataset=_samples(data), scorer=two_keys(), metrics=[std()]), log_dir)
    assert all(set(s.metrics) == {"std"} for s in as_list.results.scores)  # type: ignore[union-attr]
    mixed = _run(Task(dataset=_samples(data), scorer=two_keys(),
                      metrics=[{"corr*": [var()]}, mean()]), log_dir)
    got = {s.name: set(s.metrics) for s in mixed.results.scores}  # type: ignore[union-attr]
    assert got == {"correct": {"var", "mean"}, "concise": {"mean"}}


def test_several_reducers_give_one_metric_set_each(log_dir: Path) -> None:
    """Epochs(3, ["mean", at_least(2), pass_at(1)]): one EvalScore per reducer."""
    values = {1: [1, 1, 0], 2: [1, 0, 0], 3: [0, 0, 0], 4: [1, float("nan"), 1]}
    task = Task(dataset=_samples(values), scorer=_by_id(values, [mean()]),
                epochs=Epochs(3, ["mean", at_least(2), pass_at(1)]))
    log = _run(task, log_dir)
    got = {s.reducer: s.metrics["mean"].value for s in log.results.scores}  # type: ignore[union-attr]
    # per sample: mean 2/3, 1/3, 0, 1; at_least_2: 1, 0, 0, 1; pass_at_1 = c/n: 2/3, 1/3, 0, 1
    assert got["mean"] == pytest.approx((2 / 3 + 1 / 3 + 0 + 1) / 4)
    assert got["at_least_2"] == 0.5
    assert got["pass_at_1"] == pytest.approx((2 / 3 + 1 / 3 + 0 + 1) / 4)
    assert "by_id[at_least_2]/mean=0.500" in _results_text(log)


def _results_text(log: EvalLog) -> str:
    from evalkit._eval._display import results_text

    return results_text([log])


def test_pass_at_k_is_the_unbiased_estimator() -> None:
    """pass@k = 1 - C(n-c, k)/C(n, k); at_least(k) needs k passing epochs."""
    scores = [Score(value=v) for v in (1, 0, 0, 1, 0)]
    assert pass_at(2)(scores).as_float() == pytest.approx(1 - math.comb(3, 2) / math.comb(5, 2))
    assert pass_at(4)(scores).as_float() == 1.0 and pass_at(1)([Score(value=0)]).as_float() == 0
    assert at_least(2)(scores).as_float() == 1.0 and at_least(3)(scores).as_float() == 0.0
    assert at_least(1, value=0.5)([Score(value=0.4)]).as_float() == 0.0


@score_reducer
def any_correct() -> ScoreReducer:
    """An Inspect-style user reducer over list[Score]: C when some epoch was C."""

    def reduce(scores: list[Score]) -> Score:
        return Score(value="C" if any(score.as_str() == "C" for score in scores) else "I")

    return reduce


def test_a_user_reducer_in_inspect_style(log_dir: Path) -> None:
    """@score_reducer gets each sample's epoch Scores; its Score feeds the metrics."""
    values = {1: ["I", "C"], 2: ["I", "I"], 3: ["C", "I"]}
    task = Task(dataset=_samples(values), scorer=_by_id(values, [accuracy()]),
                epochs=Epochs(2, any_correct()))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["accuracy"].value == pytest.approx(2 / 3)


def test_score_conversions() -> None:
    """Score.as_float/as_int/as_str/as_bool read scalar values; a dict is not a scalar."""
    assert Score(value="1.5").as_float() == 1.5 and Score(value=2.0).as_int() == 2
    assert Score(value=3).as_str() == "3" and Score(value=1).as_bool() is True
    assert Score(value={"a": 1}).as_dict() == {"a": 1}
    with pytest.raises(ValueError, match="not a str, int, float or bool"):
        Score(value={"a": 1}).as_float()
    assert SampleScore(score=Score(value=True), sample_id=1).as_float() == 1.0


def test_old_footers_without_new_fields_read(log_dir: Path) -> None:
    """EvalScore's new fields are optional: an old footer's score reads, unchanged."""
    old = EvalScore.model_validate({"name": "includes", "scored_samples": 1, "metrics": {
        "accuracy": {"name": "accuracy", "value": 1.0}}})
    assert old.scorer is None and old.reducer is None and old.label == "includes"


def test_retry_carries_whole_scores_for_user_metrics(log_dir: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Samples carried over by a retry feed grouped/user metrics like fresh ones."""
    task_file = tmp_path / "grouped_task.py"
    task_file.write_text(GROUPED_TASK)
    monkeypatch.setenv("GROUPED_FAIL", "1")
    [first] = eval(f"{task_file}@grouped_task", model="mockllm/model", display="none",
                   log_dir=str(log_dir), fail_on_error=False)
    assert first.results is not None and first.results.errored_samples == 2
    monkeypatch.delenv("GROUPED_FAIL")
    [retried] = eval_retry(str(first.location), display="none")
    [score] = retried.results.scores  # type: ignore[union-attr]
    got = {name: m.value for name, m in score.metrics.items()}
    assert got == {"a": 0.5, "b": 1.0, "all": pytest.approx(2 / 3)}


GROUPED_TASK = '''
import os
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import Score, accuracy, grouped, scorer


@scorer(metrics=[grouped(accuracy(), "group")])
def by_input():
    async def score(state, target):
        if os.environ.get("GROUPED_FAIL") and state.sample_id in (2, 3):
            raise RuntimeError("scorer down")
        return Score(value="C" if state.sample_id != 2 else "I")
    return score


@task
def grouped_task():
    groups = {1: "a", 2: "a", 3: "b"}
    return Task(dataset=[Sample(id=i, input="q", target="t", metadata={"group": g})
                         for i, g in groups.items()], scorer=by_input())
'''


def _evaluated(messages: list[Any]) -> str:
    """The evaluated model: answers "Paris", and grades everything wrong."""
    return "GRADE: I" if "GRADE" in messages[-1].text else "Paris"


async def _grade_in_sample(scorer_: Scorer, grader_reply: str | None) -> Score:
    """Score "Paris" as a running sample would: the evaluated model active and, with
    ``grader_reply``, a grader model bound to the "grader" role that replies it."""
    from evalkit.model import ModelOutput, get_model
    from evalkit.model._model import bind_active_model, bind_model_roles

    state = TaskState(model="mockllm/model", sample_id=1, epoch=1, input="Capital of France?",
                      target=Target("Paris"), messages=[])
    state.output = ModelOutput.from_content("mockllm/model", "Paris")
    evaluated = get_model("mockllm/model", custom_outputs=_evaluated)
    roles = {} if grader_reply is None else {
        "grader": get_model("mockllm/grader", custom_outputs=[grader_reply])}
    with bind_active_model(evaluated), bind_model_roles(roles):
        return await scorer_(state, Target("Paris"))


@pytest.mark.anyio
@pytest.mark.parametrize(("reply", "value"), [("Right.\nGRADE: C", 1.0),
                                              ("Wrong.\nGRADE: I", 0.0),
                                              ("no verdict", 0.0),
                                              (None, 0.0)])
async def test_model_graded_fact_grades_with_the_grader_role(reply: str | None,
                                                             value: float) -> None:
    """model_graded_fact asks the model bound to the grader role (else the evaluated one)."""
    from evalkit.scorer import model_graded_fact, value_to_float

    score = await _grade_in_sample(model_graded_fact(), reply)
    assert value_to_float()(score.value) == value and score.answer == "Paris"
    assert score.explanation == (reply if reply is not None else "GRADE: I")


@pytest.mark.anyio
async def test_an_explicit_grader_model_wins_over_the_role() -> None:
    """model= given to the scorer grades even when a grader role is bound (as in Inspect)."""
    from evalkit.model import get_model
    from evalkit.scorer import model_graded_qa

    mine = get_model("mockllm/mine", custom_outputs=["GRADE: C"])
    score = await _grade_in_sample(model_graded_qa(model=mine), "GRADE: I")
    assert score.value == "C"


def test_model_graded_qa_partial_credit(log_dir: Path) -> None:
    """With partial_credit the grader is offered GRADE: P, which scores 0.5; the grade
    letter is read in any case."""
    from evalkit.scorer import model_graded_qa

    prompts: list[str] = []

    def model(messages: list[Any]) -> str:
        prompts.append(messages[-1].text)
        return "Half.\ngrade: p" if "GRADE" in messages[-1].text else "Paris"

    task = Task(dataset=[Sample(input="Capital of France?", target="Paris")],
                scorer=model_graded_qa(partial_credit=True))
    [log] = eval(task, model="mockllm/model", model_args={"custom_outputs": model},
                 log_dir=str(log_dir), display="none")
    [sample] = read_eval_log(str(log.location)).samples or []
    assert (sample.scores or {})["model_graded_qa"].value == "P"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 0.5
    assert "GRADE: P" in prompts[-1]


def test_model_graded_qa_template_instructions_and_pattern(log_dir: Path) -> None:
    """template=, instructions= and grade_pattern= replace the defaults; the template
    sees the sample's metadata and {instructions}; the last match is the grade."""
    from evalkit.scorer import model_graded_qa

    seen: list[str] = []

    def model(messages: list[Any]) -> str:
        if not messages[-1].text.startswith("Q="):
            return "4"
        seen.append(messages[-1].text)
        return "VERDICT=no, or rather VERDICT=yes"

    scorer_ = model_graded_qa(template="Q={question} A={answer} T={criterion} {instructions} "
                                       "{topic}",
                              instructions="Say VERDICT=yes or VERDICT=no.",
                              grade_pattern=r"VERDICT=(yes|no)")
    task = Task(dataset=[Sample(input="2+2?", target="4", metadata={"topic": "sums"})],
                scorer=scorer_)
    [log] = eval(task, model="mockllm/model", model_args={"custom_outputs": model},
                 log_dir=str(log_dir), display="none")
    assert seen == ["Q=2+2? A=4 T=4 Say VERDICT=yes or VERDICT=no. sums"]
    assert log.results is not None  # the last verdict, "yes", reads as 1
    assert log.results.scores[0].metrics["accuracy"].value == 1.0


def test_scorer_arguments_have_inspects_names() -> None:
    """answer(pattern=...) and pattern(pattern=...) take Inspect's keyword names."""
    from evalkit.scorer import answer, pattern

    assert callable(answer(pattern="letter")) and callable(pattern(pattern=r"(\d+)"))
