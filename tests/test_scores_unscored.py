"""Honest numbers: NaN/None scores are unscored, reducers ignore order, ±inf survive
the log, a metric over no scored sample has no value, retries agree with full runs."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
import zstandard
from conftest import REPO

from evalkit import Epochs, Task, eval, eval_retry
from evalkit._eval._display import results_text
from evalkit.dataset import Sample, Target
from evalkit.log import EvalLog, read_eval_log
from evalkit.scorer import SampleScore, Score, Scorer, accuracy, get_reducer, mean, scorer, stderr
from evalkit.solver import TaskState

NAN, INF = float("nan"), float("inf")
NONFINITE = REPO / "tests" / "retry_tasks" / "nonfinite.py"


def _scorer_of(values: dict[int, object]) -> Scorer:
    @scorer(metrics=[accuracy(), stderr()])
    def by_id() -> Scorer:
        async def score(state: TaskState, target: Target) -> Score:
            return Score(value=values[int(state.sample_id)])  # type: ignore[arg-type]  # any value

        return score

    return by_id()


def _run(values: dict[int, object], log_dir: Path, **options: object) -> EvalLog:
    task = Task(dataset=[Sample(id=i, input=f"q{i}", target="t") for i in values],
                scorer=_scorer_of(values), **options)  # type: ignore[arg-type]  # test options
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none")
    return log


def _footer(log: EvalLog) -> dict[str, object]:
    with open(str(log.location), "rb") as handle:
        text = zstandard.ZstdDecompressor().stream_reader(handle).read().decode()
    record: dict[str, object] = json.loads(text.strip().splitlines()[-1])
    assert record["type"] == "footer"
    return record


def test_nan_and_none_scores_are_unscored_and_counted(log_dir: Path) -> None:
    """A NaN (or None) score is left out of the metrics and counted as unscored."""
    log = _run({0: 1.0, 1: NAN, 2: 0.0, 3: None, 4: 1.0}, log_dir)
    assert log.status == "success" and log.results is not None
    [score] = log.results.scores
    assert score.metrics["accuracy"].value == pytest.approx(2 / 3)
    assert (score.scored_samples, score.unscored_samples) == (3, 2)


@pytest.mark.parametrize("name", ["mean", "median", "max", "min", "mode"])
def test_reducers_give_the_same_answer_in_any_order(name: str) -> None:
    """Epochs finish in any order: a reducer's result must not depend on it."""
    def reducer(values: Sequence[float]) -> float:
        return get_reducer(name)([Score(value=v) for v in values]).as_float()

    values = [6.0, 0.0, 0.0, 0.0, 8.0, 4.0, NAN]
    results = {reducer(list(order)) for order in itertools.permutations(values)}
    assert len(results) == 1
    ties = {reducer(order) for order in ([1.0, 2.0, NAN], [2.0, NAN, 1.0], [NAN, 2.0, 1.0])}
    assert len(ties) == 1
    if name == "max":
        assert reducer([NAN, 1.0]) == reducer([1.0, NAN]) == 1.0
    if name == "median":
        assert reducer(values) == 2.0


def test_a_sample_unscored_in_every_epoch_is_unscored(log_dir: Path) -> None:
    """The reducer of only unscored epochs is unscored; the sample is counted as such."""
    log = _run({0: NAN, 1: 1.0}, log_dir, epochs=Epochs(2, "max"))
    assert log.results is not None
    [score] = log.results.scores
    assert score.metrics["accuracy"].value == 1.0
    assert (score.scored_samples, score.unscored_samples) == (1, 1)


def test_a_metric_over_no_scored_sample_has_no_value(log_dir: Path) -> None:
    """No scored sample: the metric is None (null in the log, n/a in the table), not 0."""
    log = _run({0: NAN, 1: NAN}, log_dir)
    assert log.status == "success" and log.results is not None
    [score] = log.results.scores
    assert score.metrics["accuracy"].value is None
    assert (score.scored_samples, score.unscored_samples) == (0, 2)
    footer = _footer(log)
    [logged] = footer["results"]["scores"]  # type: ignore[index]  # JSON record
    assert logged["metrics"]["accuracy"]["value"] is None
    read = read_eval_log(str(log.location))
    assert read.results is not None and read.results.scores[0].metrics["accuracy"].value is None
    assert "accuracy=n/a" in results_text([log]) and "by_id/accuracy=n/a" in results_text([read])
    assert "accuracy=n/a" in repr(read)


def test_infinite_scores_and_metrics_round_trip_through_the_log(log_dir: Path) -> None:
    """±inf scores are values: written so they read back as ±inf, in samples and metrics."""
    log = _run({0: INF, 1: -INF, 2: 1.0}, log_dir)
    read = read_eval_log(str(log.location))
    values = {s.id: (s.scores or {})["by_id"].value for s in read.samples or []}
    assert values == {0: INF, 1: -INF, 2: 1.0}
    log_inf = _run({0: INF, 1: 1.0}, log_dir)
    read_inf = read_eval_log(str(log_inf.location))
    assert read_inf.results is not None
    assert read_inf.results.scores[0].metrics["accuracy"].value == INF
    assert read_inf.results.scores[0].metrics["stderr"].value is None  # inf - inf: no value


def test_metrics_are_order_independent_over_samples() -> None:
    """mean and stderr over per-sample values do not depend on completion order."""
    values = [0.1, 0.2, 0.3, 1e16, -1e16, 0.7]
    for metric in (mean(), stderr()):
        results = {metric([SampleScore(score=Score(value=v)) for v in order])
                   for order in itertools.permutations(values)}
        assert len(results) == 1


@pytest.mark.parametrize("reducer", ["mean", "median", "max", "mode"])
def test_retry_metrics_equal_an_uninterrupted_run(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch, reducer: str
) -> None:
    """With NaN and ±inf scores, a retry's results equal an uninterrupted run's."""
    task = f"{NONFINITE}@nonfinite"
    args = {"reducer": reducer}
    [full] = eval(task, model="mockllm/model", task_args=args, display="none", max_samples=1)
    monkeypatch.setenv("NONFINITE_FAIL_IDS", "1,5,7")  # the ±inf samples are carried
    [interrupted] = eval(task, model="mockllm/model", task_args=args, display="none",
                         max_samples=1)
    assert interrupted.results is not None and interrupted.results.errored_samples == 6
    monkeypatch.delenv("NONFINITE_FAIL_IDS")
    [retried] = eval_retry(str(interrupted.location), display="none", max_samples=1)
    assert retried.results == full.results
    reread = read_eval_log(str(retried.location))
    assert reread.results == full.results
    assert full.results is not None
    [score] = full.results.scores
    assert (score.scored_samples, score.unscored_samples) == (7, 1)
    assert all(m.value is None or not math.isnan(m.value) for m in score.metrics.values())
