"""Inspect's metric and reducer arguments: stderr(cluster=), to_float / value_to_float,
@scorer(**metadata), @metric("name") and the older list[Score] metric form.

Every expected number is worked out by hand in the test's docstring or comments.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from test_metrics_inspect import _by_id, _run

from evalkit import Epochs, Task
from evalkit.dataset import Sample
from evalkit.log import read_eval_log
from evalkit.scorer import (
    Metric,
    SampleScore,
    Score,
    at_least,
    bootstrap_stderr,
    max_score,
    mean,
    mean_score,
    median_score,
    metric,
    mode_score,
    pass_at,
    scorer,
    scorer_metadata,
    std,
    stderr,
    var,
)

# Six scores in two clusters (e.g. two reading passages, three questions each).
CLUSTERED = [(1.0, "a"), (1.0, "a"), (1.0, "a"), (0.0, "b"), (0.0, "b"), (1.0, "b")]


def _scores(pairs: list[tuple[Any, str]]) -> list[SampleScore]:
    return [SampleScore(score=Score(value=value), sample_id=i + 1,
                        sample_metadata={"passage": group})
            for i, (value, group) in enumerate(pairs)]


def test_clustered_stderr_by_hand() -> None:
    """stderr(cluster=) on 6 scores in 2 clusters: 1/3, where the plain stderr is 0.211.

    mean = 4/6 = 2/3. Summed deviations: cluster a 3 x (1/3) = 1, cluster b
    (-2/3) + (-2/3) + (1/3) = -1. Sum of squares 1 + 1 = 2; times C/(C-1) = 2 gives 4;
    sqrt(4) / n = 2 / 6 = 1/3. Plain: sample variance (4 x 1/9 + 2 x 4/9) / 5 = 4/15,
    stderr sqrt(4/15) / sqrt(6) = sqrt(4/90) = 0.2108.
    """
    scores = _scores(CLUSTERED)
    assert stderr(cluster="passage")(scores) == pytest.approx(1 / 3)
    assert stderr()(scores) == pytest.approx(math.sqrt(4 / 90))


def test_clustered_stderr_in_a_run_reads_the_cluster_from_sample_metadata(
        log_dir: Path) -> None:
    """Run end to end, the tally keeps the cluster key of each sample's metadata."""
    values = {i + 1: value for i, (value, _) in enumerate(CLUSTERED)}
    samples = [Sample(id=i + 1, input=f"q{i}", target="t",
                      metadata={"passage": group, "other": "x" * 100})
               for i, (_, group) in enumerate(CLUSTERED)]
    task = Task(dataset=samples, scorer=_by_id(values, [mean(), stderr(cluster="passage")]))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["mean"].value == pytest.approx(2 / 3)
    assert score.metrics["stderr"].value == pytest.approx(1 / 3)


def test_two_metrics_with_one_name_warn_that_one_value_is_lost(log_dir: Path) -> None:
    """stderr() and stderr(cluster=) under one scorer share the name "stderr": the
    results can keep one value, and a warning says so instead of losing one silently."""
    values = {i + 1: value for i, (value, _) in enumerate(CLUSTERED)}
    samples = [Sample(id=i + 1, input=f"q{i}", target="t", metadata={"passage": group})
               for i, (_, group) in enumerate(CLUSTERED)]
    task = Task(dataset=samples,
                scorer=_by_id(values, [stderr(), stderr(cluster="passage")]))
    with pytest.warns(UserWarning, match="two metrics named 'stderr'"):
        [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["stderr"].value == pytest.approx(1 / 3)


def test_clustered_stderr_without_the_key_or_with_one_cluster_has_no_value(
        log_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A sample missing the cluster key, or a single cluster, gives no value and a warning
    naming why; the run still succeeds."""
    with pytest.raises(ValueError, match="needs at least 2 clusters"):
        stderr(cluster="passage")(_scores([(1.0, "a"), (0.0, "a")]))
    values = {1: 1.0, 2: 0.0}
    samples = [Sample(id=1, input="q", target="t", metadata={"passage": "a"}),
               Sample(id=2, input="q", target="t")]
    task = Task(dataset=samples, scorer=_by_id(values, [stderr(cluster="passage")]))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["stderr"].value is None
    assert "sample 2 has no metadata 'passage'" in caplog.text


def _length(value: Any) -> float:
    """A to_float of our own: the length of the value as text."""
    return float(len(str(value)))


TEXTS = ["a", "bb", "ccc", "dddd"]  # lengths 1, 2, 3, 4: mean 2.5


def test_to_float_on_var_std_stderr_bootstrap() -> None:
    """to_float reads the values: lengths 1..4 give var 5/3, std sqrt(5/3), stderr
    sqrt(5/3)/2; bootstrap_stderr equals the one over the numbers 1..4.

    Deviations from 2.5: 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3: var 5/3.
    The default to_float cannot read these words, so they are unscored: no value.
    """
    texts = [SampleScore(score=Score(value=t), sample_id=i) for i, t in enumerate(TEXTS)]
    numbers = [SampleScore(score=Score(value=float(len(t))), sample_id=i)
               for i, t in enumerate(TEXTS)]
    assert var(_length)(texts) == pytest.approx(5 / 3)
    assert std(to_float=_length)(texts) == pytest.approx(math.sqrt(5 / 3))
    assert stderr(to_float=_length)(texts) == pytest.approx(math.sqrt(5 / 3) / 2)
    assert bootstrap_stderr(200, _length)(texts) == bootstrap_stderr(200)(numbers)
    assert math.isnan(var()(texts))  # type: ignore[arg-type]  # a float here


def test_to_float_in_a_run(log_dir: Path) -> None:
    """A metric given to_float reads whole scores in a run (no numeric fast path)."""
    values = dict(enumerate(TEXTS, start=1))
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in values],
                scorer=_by_id(values, [var(_length), stderr(cluster=None, to_float=_length)]))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["var"].value == pytest.approx(5 / 3)
    assert score.metrics["stderr"].value == pytest.approx(math.sqrt(5 / 3) / 2)


def test_value_to_float_on_reducers() -> None:
    """Reducers read epochs with value_to_float: "a", "ccc" (lengths 1, 3) give mean 2,
    median 2, max "ccc" (the epoch's own value); at_least(1, value=3) is 1,
    at_least(2, value=3) is 0; pass_at(1, value=3) over 1 of 2 epochs at 3 is
    1 - C(1,1)/C(2,1) = 1/2."""
    epochs = [Score(value="a"), Score(value="ccc")]
    assert mean_score(_length)(epochs).value == 2.0
    assert median_score(value_to_float=_length)(epochs).value == 2.0
    assert max_score(value_to_float=_length)(epochs).value == "ccc"  # the epoch's own value
    assert at_least(1, value=3, value_to_float=_length)(epochs).value == 1.0
    assert at_least(2, 3, _length)(epochs).value == 0.0
    assert pass_at(1, value=3, value_to_float=_length)(epochs).value == pytest.approx(0.5)
    assert math.isnan(mean_score()(epochs).value)  # type: ignore[arg-type]  # unscored


def test_value_to_float_reducer_in_a_run(log_dir: Path) -> None:
    """Epochs(2, mean_score(value_to_float=...)) reduces text epochs in a run: samples
    ("a", "ccc") and ("bb", "bb") reduce to 2 and 2, so the mean metric is 2."""
    values = {1: ["a", "ccc"], 2: ["bb", "bb"]}
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in values],
                scorer=_by_id(values, [mean()]),
                epochs=Epochs(2, mean_score(value_to_float=_length)))
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["mean"].value == 2.0


def test_scorer_keeps_its_metadata_and_the_log_records_it(log_dir: Path) -> None:
    """@scorer(metrics, **metadata): the scorer keeps the metadata, and its results carry
    it in the log (as Inspect's EvalScore.metadata), read back from disk."""
    made = _by_id({1: 1.0}, [mean()], category="safety", weight=2)
    assert scorer_metadata(made) == {"category": "safety", "weight": 2}
    log = _run(Task(dataset=[Sample(id=1, input="q", target="t")], scorer=made), log_dir)
    [score] = read_eval_log(str(log.location)).results.scores  # type: ignore[union-attr]
    assert score.metadata == {"category": "safety", "weight": 2}
    assert scorer_metadata(_by_id({1: 1.0}, [mean()])) == {}


@metric
def share_of_c() -> Metric:
    """Inspect's older metric form: list[Score] in."""

    def compute(scores: list[Score]) -> float:
        return sum(1 for s in scores if s.value == "C") / len(scores)

    return compute  # type: ignore[return-value]  # the older form, as Inspect accepts


@metric("unannotated_share")
def unannotated() -> Metric:
    """A metric with no annotation: Inspect passes it bare Scores too."""

    def compute(scores):  # type: ignore[no-untyped-def]  # deliberately unannotated
        return sum(1 for s in scores if s.value == "C") / len(scores)

    return compute  # type: ignore[no-any-return]


def test_a_metric_of_the_older_list_score_form_gets_scores(log_dir: Path) -> None:
    """A metric annotated list[Score] (or not annotated) gets Scores, with a FutureWarning;
    C, I, C gives 2/3. @metric("name") names it, as in Inspect."""
    values = {1: "C", 2: "I", 3: "C"}
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in values],
                scorer=_by_id(values, [share_of_c(), unannotated()]))
    with pytest.warns(FutureWarning) as warned:
        [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    named = sorted(str(w.message).split()[1] for w in warned)
    assert named == ["share_of_c", "unannotated_share"]
    assert score.metrics["share_of_c"].value == pytest.approx(2 / 3)
    assert score.metrics["unannotated_share"].value == pytest.approx(2 / 3)


def test_score_unscored_is_nan_with_its_context() -> None:
    """Score.unscored(answer=, explanation=, metadata=) (Inspect's) is a NaN score, which
    every metric leaves out, keeping what the scorer could say."""
    unscored = Score.unscored(answer="?", explanation="no grade", metadata={"k": 1})
    assert math.isnan(unscored.value)  # type: ignore[arg-type]  # a float here
    assert (unscored.answer, unscored.explanation, unscored.metadata) == ("?", "no grade",
                                                                          {"k": 1})
    scores = [SampleScore(score=s, sample_id=i)
              for i, s in enumerate([Score(value=1.0), Score(value=0.0), unscored])]
    assert mean()(scores) == 0.5 and var()(scores) == 0.5


def test_a_scorer_that_is_not_async_is_refused_when_made() -> None:
    """@scorer on a factory returning a plain function raises TypeError naming it when
    the scorer is made (Inspect's check), rather than erring in every sample."""

    @scorer(metrics=[mean()])
    def not_async() -> Any:
        def score(state: Any, target: Any) -> Score:
            return Score(value=1)

        return score

    with pytest.raises(TypeError, match="'not_async' is not declared as an async callable"):
        not_async()


@metric(name="counted", scores="unreduced")
def counted_unreduced() -> Metric:
    """How many scores the metric sees (every epoch's)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(len(scores))

    return compute


@metric(name="counted_reduced", scores="reduced")
def counted_reduced() -> Metric:
    """How many scores the metric sees (one per sample)."""

    def compute(scores: list[SampleScore]) -> float:
        return float(len(scores))

    return compute


def test_an_unreduced_metric_sees_every_epoch(log_dir: Path) -> None:
    """@metric(scores="unreduced") sees 2 samples x 3 epochs = 6 scores, where a reduced
    metric sees 2 (Inspect's scores= contract); a bad value is refused."""
    values = {1: [1.0, 0.0, 1.0], 2: [1.0, 1.0, 1.0]}
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in values],
                scorer=_by_id(values, [counted_unreduced(), counted_reduced(), mean()]),
                epochs=3)
    [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    got = {name: m.value for name, m in score.metrics.items()}
    assert got == {"counted": 6.0, "counted_reduced": 2.0, "mean": pytest.approx(5 / 6)}
    with pytest.raises(ValueError, match="choose 'auto', 'reduced' or 'unreduced'"):
        metric(scores="every")  # type: ignore[call-overload]


def test_max_and_mode_reducers_keep_the_epochs_own_value(log_dir: Path) -> None:
    """max_score/mode_score give the epoch's own value ("C"), as Inspect does, so a user
    metric comparing with "C" after Epochs(3, "max") counts it: samples (I, C, I) and
    (I, I, I) reduce to C and I, a share of 1/2; mode of (C, C, I) is C."""
    assert max_score()([Score(value="I"), Score(value="C")]).value == "C"
    assert mode_score()([Score(value=v) for v in "CCI"]).value == "C"
    assert max_score()([Score(value={"a": "I"}), Score(value={"a": "C"})]).value == {"a": "C"}
    values = {1: ["I", "C", "I"], 2: ["I", "I", "I"]}
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in values],
                scorer=_by_id(values, [share_of_c(), mean()]), epochs=Epochs(3, "max"))
    with pytest.warns(FutureWarning):  # share_of_c is of the older list[Score] form
        [score] = _run(task, log_dir).results.scores  # type: ignore[union-attr]
    assert score.metrics["share_of_c"].value == 0.5 and score.metrics["mean"].value == 0.5
