"""fail_on_error, continue_on_fail, retry_on_error: sample errors and when they fail an eval."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import anyio
import pytest
from anyio.lowlevel import checkpoint
from conftest import RETRY_FROM_MODULE, RETRY_FROM_SCRIPT, run_cli

from evalkit import Task, eval, eval_async
from evalkit._eval._display import outcome_notes, results_text
from evalkit._policy import ErrorPolicy, validate_fail_on_error
from evalkit.dataset import Sample
from evalkit.errors import QuotaExhaustedError, UsageError
from evalkit.log import EvalLog, EvalSample, read_eval_log
from evalkit.model import ModelOutput
from evalkit.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer
from evalkit.solver import Generate, Solver, TaskState, generate, solver, use_tools
from evalkit.tool import Tool, tool

MOCK = "mockllm/model"

# -- helpers -------------------------------------------------------------------------


def samples(count: int) -> list[Sample]:
    """Samples 1..count whose target is the mock model's default answer's first word."""
    return [Sample(id=i, input=f"question {i}", target="Default") for i in range(1, count + 1)]


@solver
def fail_for(ids: Collection[int], epochs: Collection[int] | None = None) -> Solver:
    """Raise for the chosen sample ids (in every epoch, or only in ``epochs``)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id in ids and (epochs is None or state.epoch in epochs):
            raise RuntimeError(f"solver failed on sample {state.sample_id}")
        return await generate(state)

    return solve


@scorer(metrics=[accuracy()])
def starts_with(fail_ids: Collection[int] = ()) -> Any:
    """CORRECT when the answer starts with the target; raises for ``fail_ids``."""

    async def score(state: TaskState, target: Target) -> Score:
        if state.sample_id in fail_ids:
            raise ValueError(f"scorer failed on sample {state.sample_id}")
        ok = state.output.completion.startswith(target.text)
        return Score(value=CORRECT if ok else INCORRECT)

    return score


def run(task: Task, **options: Any) -> tuple[EvalLog, list[EvalSample]]:
    """Run ``task`` on the mock model, one sample at a time; the log and its samples."""
    options.setdefault("max_samples", 1)
    [log] = eval(task, model=MOCK, display="none", **options)
    assert log.location is not None
    full = read_eval_log(log.location)
    return log, list(full.samples or [])


def counts(log: EvalLog) -> tuple[int, int, int, int, int]:
    """(total, completed, errored, limited, cancelled) from the footer."""
    r = log.results
    assert r is not None
    return (r.total_samples, r.completed_samples, r.errored_samples, r.limited_samples,
            r.cancelled_samples)


# -- the rule itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "errors", "total", "fails"),
    [
        (True, 0, 10, False),
        (True, 1, 10, True),
        (False, 10, 10, False),
        (0.2, 2, 10, False),  # exactly 20%
        (0.2, 3, 10, True),
        (0.29, 29, 100, False),  # 0.29 * 100 == 28.999999999999996 in floats
        (0.29, 30, 100, True),
        (0.1, 3, 30, False),  # 0.1 * 30 == 3.0000000000000004 in floats
        (0.1, 4, 30, True),
        (1, 1, 10, False),  # a count of 1 is not True: one error is allowed
        (1, 2, 10, True),
        (3, 3, 10, False),
        (3, 4, 10, True),
        (2.5, 2, 10, False),
        (2.5, 3, 10, True),
    ],
)
def test_threshold_table(rule: bool | float, errors: int, total: int, fails: bool) -> None:
    """Each row of the fail_on_error table: at the threshold passes, one past fails."""
    assert ErrorPolicy(rule).exceeded(errors, total) is fails


@pytest.mark.parametrize("value", [0, 0.0, -1, -0.5, float("nan"), float("inf"), "0.5", None,
                                   [1]])
def test_invalid_values_are_refused(value: object) -> None:
    """0, negatives, non-finite and non-numbers are refused with the accepted forms named."""
    with pytest.raises(UsageError, match=r"fail_on_error .* must be True, False, a fraction"):
        validate_fail_on_error(value)


def test_invalid_values_refused_by_task_and_eval() -> None:
    """Task(fail_on_error=0) and eval(fail_on_error=-1) refuse, before any log is written."""
    with pytest.raises(UsageError, match="got 0"):
        Task(dataset=samples(1), fail_on_error=0)
    with pytest.raises(UsageError, match="got -1"):
        eval(Task(dataset=samples(1)), model=MOCK, display="none", fail_on_error=-1)
    assert not Path("logs").exists()


def test_count_of_one_stays_a_count() -> None:
    """fail_on_error=1 is kept as the count 1 (not True) through the config and the header."""
    task = Task(dataset=samples(3), solver=fail_for({1}), scorer=starts_with())
    log, _ = run(task, fail_on_error=1)
    assert log.eval.config["fail_on_error"] == 1
    assert log.eval.config["fail_on_error"] is not True
    assert log.status == "success"
    assert counts(log) == (3, 2, 1, 0, 0)


# -- every row, at and one past its boundary, with epochs ------------------------------


def test_true_fails_on_first_error_and_stops() -> None:
    """True: the first error fails the eval and nothing more is scheduled."""
    task = Task(dataset=samples(4), solver=fail_for({2}), scorer=starts_with(), epochs=2)
    log, records = run(task)
    assert log.status == "error"
    assert counts(log) == (8, 1, 1, 0, 0)
    assert [(r.id, r.epoch) for r in records] == [(1, 1), (2, 1)]
    assert log.error is not None
    assert log.error.message.startswith("1 of 8 samples failed (threshold True: any error)")
    assert "6 samples did not run" in log.error.message


def test_true_succeeds_without_errors() -> None:
    """True with no errors: success, every sample scored."""
    log, records = run(Task(dataset=samples(3), scorer=starts_with(), epochs=2))
    assert log.status == "success"
    assert counts(log) == (6, 6, 0, 0, 0)
    assert all(r.scores is not None for r in records)


def test_false_never_fails() -> None:
    """False: every sample erring still finishes with success, all recorded."""
    task = Task(dataset=samples(3), solver=fail_for({1, 2, 3}), epochs=2, fail_on_error=False)
    log, records = run(task)
    assert log.status == "success"
    assert log.error is None
    assert counts(log) == (6, 0, 6, 0, 0)
    assert len(records) == 6


@pytest.mark.parametrize(("rule", "status"), [(4, "success"), (3, "error")])
def test_count_boundary_with_epochs(rule: int, status: str) -> None:
    """Count: 4 errors of 5x2 pass at fail_on_error=4 and fail at 3."""
    # Samples 1 and 2 fail in both epochs: 4 errors of 10.
    task = Task(dataset=samples(5), solver=fail_for({1, 2}), scorer=starts_with(), epochs=2,
                fail_on_error=rule)
    log, records = run(task)
    assert log.status == status
    if status == "success":
        assert counts(log) == (10, 6, 4, 0, 0)
        assert log.error is None
    else:
        # The 4th error (epoch 2, sample 2) passes the threshold; 3 never run.
        assert counts(log) == (10, 3, 4, 0, 0)
        assert (records[-1].id, records[-1].epoch) == (2, 2)
        assert log.error is not None
        assert log.error.message.startswith(
            "4 of 10 samples failed (threshold 3: more than 3 samples)")
        assert log.error.kind == "fail_on_error"


@pytest.mark.parametrize(("rule", "status"), [(0.4, "success"), (0.3, "error")])
def test_fraction_boundary_with_epochs(rule: float, status: str) -> None:
    """Fraction: 4 errors of 10 (samples x epochs) pass at 0.4 and fail at 0.3."""
    task = Task(dataset=samples(5), solver=fail_for({1, 2}), scorer=starts_with(), epochs=2,
                fail_on_error=rule)
    log, _ = run(task)
    assert log.status == status
    assert log.results is not None and log.results.errored_samples == 4
    if status == "error":
        assert log.error is not None
        assert "4 of 10 samples failed (threshold 0.3: more than 30% of 10 samples)" \
            in log.error.message


def test_fraction_counts_epochs_in_the_total() -> None:
    """0.25 of 4 samples x 2 epochs allows 2 errors: the total is 8, not 4."""
    task = Task(dataset=samples(4), solver=fail_for({1}), scorer=starts_with(), epochs=2,
                fail_on_error=0.25)
    log, _ = run(task)
    assert log.status == "success"
    assert counts(log) == (8, 6, 2, 0, 0)


@solver
def fail_pairs(pairs: Collection[tuple[int, int]]) -> Solver:
    """Raise for the chosen (sample id, epoch) pairs."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if (state.sample_id, state.epoch) in pairs:
            raise RuntimeError(f"solver failed on {state.sample_id}/{state.epoch}")
        return await generate(state)

    return solve


@pytest.mark.parametrize(("errors", "status"), [(29, "success"), (30, "error")])
def test_fraction_at_a_float_trap_boundary(errors: int, status: str) -> None:
    """0.29 of 50x2: exactly 29 errors succeed (floats say 0.29*100 = 28.99...), 30 fail."""
    pairs = {(i, 1) for i in range(1, 16)} | {(i, 2) for i in range(1, errors - 14)}
    assert len(pairs) == errors
    task = Task(dataset=samples(50), solver=fail_pairs(pairs), scorer=starts_with(), epochs=2,
                fail_on_error=0.29)
    log, _ = run(task)
    assert log.status == status
    assert counts(log)[2] == errors


# -- eval() overrides Task -------------------------------------------------------------


@pytest.mark.parametrize(
    ("task_rule", "eval_rule", "status"),
    [(True, False, "success"), (False, True, "error"), (0.5, 1, "error"), (1, 0.5, "success"),
     (True, None, "error"), (2, None, "success")],
)
def test_eval_value_overrides_task(task_rule: bool | float, eval_rule: bool | float | None,
                                   status: str) -> None:
    """eval(fail_on_error=...) replaces the Task's value; None keeps the Task's."""
    # 2 errors of 4.
    task = Task(dataset=samples(4), solver=fail_for({1, 2}), scorer=starts_with(),
                fail_on_error=task_rule)
    options = {} if eval_rule is None else {"fail_on_error": eval_rule}
    log, _ = run(task, **options)
    assert log.status == status


def test_eval_continue_on_fail_overrides_task() -> None:
    """Task(continue_on_fail=True) with eval(continue_on_fail=False) stops at the first error."""
    task = Task(dataset=samples(4), solver=fail_for({1}), scorer=starts_with(),
                continue_on_fail=True)
    log, records = run(task, continue_on_fail=False)
    assert [r.id for r in records] == [1]
    assert log.status == "error"


# -- what an error is ------------------------------------------------------------------


def test_solver_error_is_recorded_not_scored() -> None:
    """A solver exception becomes the sample's error: message, traceback, phase, kind."""
    task = Task(dataset=samples(2), solver=fail_for({1}), scorer=starts_with(),
                fail_on_error=False)
    log, records = run(task)
    failed = next(r for r in records if r.id == 1)
    assert failed.error is not None
    assert failed.error.message == "RuntimeError: solver failed on sample 1"
    assert failed.error.phase == "solver"
    assert failed.error.kind == "RuntimeError"
    assert failed.error.traceback is not None and "fail_for" not in failed.error.message
    assert "raise RuntimeError" in failed.error.traceback
    assert failed.scores is None
    assert [e.event for e in failed.events][-1] == "error"
    assert log.results is not None and log.results.scores[0].scored_samples == 1


def test_scorer_that_raises_on_some_samples() -> None:
    """A raising scorer errs those samples only; the eval completes and writes its footer."""
    task = Task(dataset=samples(5), scorer=starts_with(fail_ids={2, 4}), epochs=2,
                fail_on_error=False)
    log, records = run(task, max_samples=3)
    assert log.status == "success"
    assert counts(log) == (10, 6, 4, 0, 0)
    errored = sorted((r.id, r.epoch) for r in records if r.error is not None)
    assert errored == [(2, 1), (2, 2), (4, 1), (4, 2)]
    for record in records:
        if record.error is not None:
            assert record.error.phase == "scorer"
            assert record.error.kind == "ValueError"
            assert record.scores is None
            assert record.output is not None  # the solver's work is kept
    # Metrics over the scored samples only: ids 1, 3, 5 (each reduced over its 2 epochs).
    [score] = log.results.scores if log.results else []
    assert score.scored_samples == 3
    assert score.metrics["accuracy"].value == 1.0


def test_scorer_error_passes_threshold_like_any_error() -> None:
    """Scorer errors count towards fail_on_error: the second one fails a count of 1."""
    task = Task(dataset=samples(5), scorer=starts_with(fail_ids={2, 4}), fail_on_error=1)
    log, records = run(task)
    assert log.status == "error"
    assert [r.id for r in records] == [1, 2, 3, 4]
    assert counts(log) == (5, 2, 2, 0, 0)


def test_unserializable_score_is_a_sample_error() -> None:
    """A score JSON cannot hold errs that sample; the run goes on and the log reads back."""

    @scorer(metrics=[accuracy()])
    def odd_metadata() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            metadata = {"handle": object()} if state.sample_id == 2 else {}
            return Score(value=CORRECT, metadata=metadata)

        return score

    log, records = run(Task(dataset=samples(3), scorer=odd_metadata(), fail_on_error=False))
    assert log.status == "success"
    assert counts(log) == (3, 2, 1, 0, 0)
    bad = next(r for r in records if r.id == 2)
    assert bad.error is not None
    assert bad.error.kind == "unserializable"
    assert bad.error.phase == "scorer"


@tool
def explode() -> Tool:
    async def execute(key: str) -> str:
        """Look a key up, with a bug.

        Args:
            key: The key.
        """
        return {"a": "1"}[key]

    return execute


def test_tool_that_raises_is_a_tool_phase_error() -> None:
    """A tool's unexpected exception errs the sample with phase tool and the tool's kind."""
    outputs = [ModelOutput.for_tool_call(MOCK, "explode", {"key": "missing"})]
    task = Task(dataset=samples(1), solver=[use_tools(explode()), generate()],
                fail_on_error=False)
    log, [record] = run(task, model_args={"custom_outputs": outputs})
    assert record.error is not None
    assert record.error.phase == "tool"
    assert record.error.kind == "KeyError"
    assert "tool 'explode' raised KeyError" in record.error.message
    assert record.scores is None
    assert counts(log) == (1, 0, 1, 0, 0)


def test_model_request_error_is_a_model_phase_error() -> None:
    """A bad-request model error errs the sample with phase model."""
    # The mock raises ModelRequestError when its outputs run out: sample 2 gets none.
    _, records = run(Task(dataset=samples(2), fail_on_error=False),
                     model_args={"custom_outputs": ["Default answer"]})
    failed = next(r for r in records if r.id == 2)
    assert failed.error is not None
    assert failed.error.phase == "model"
    assert failed.error.kind == "model_request"


def test_quota_error_inside_a_solver_task_group_stops_the_eval() -> None:
    """A quota error raised in a solver's own task group aborts the eval, not one sample."""

    @solver
    def fan_out() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            async def call() -> None:
                raise QuotaExhaustedError("insufficient_quota", status_code=429)

            async with anyio.create_task_group() as group:
                group.start_soon(call)
            return state

        return solve

    log, records = run(Task(dataset=samples(3), solver=fan_out(), fail_on_error=False))
    assert log.error is not None and log.error.kind == "quota_exhausted"
    assert [r.cancelled for r in records] == [True]
    assert counts(log) == (3, 0, 0, 0, 1)


# -- retry_on_error ---------------------------------------------------------------------


def flaky(failures: int) -> Callable[[], Solver]:
    """A solver factory whose sample 1 fails its first ``failures`` attempts."""
    seen: dict[tuple[int | str, int], int] = {}

    @solver
    def flaky_solver() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            key = (state.sample_id, state.epoch)
            seen[key] = seen.get(key, 0) + 1
            if state.sample_id == 1 and seen[key] <= failures:
                raise ConnectionResetError(f"flake {seen[key]}")
            return await generate(state)

        return solve

    return flaky_solver


def test_flaky_sample_fixed_by_retry_on_error() -> None:
    """retry_on_error=2 gets a sample that fails twice through; both failures are kept."""
    task = Task(dataset=samples(2), solver=flaky(2)(), scorer=starts_with(), retry_on_error=2)
    log, records = run(task)
    assert log.status == "success"
    assert counts(log) == (2, 2, 0, 0, 0)
    first = next(r for r in records if r.id == 1)
    assert first.error is None
    assert first.scores is not None
    assert first.attempts == 3
    assert [e.message for e in first.error_history] == [
        "ConnectionResetError: flake 1", "ConnectionResetError: flake 2"]
    assert all(e.phase == "solver" and e.traceback for e in first.error_history)


def test_threshold_counts_a_sample_once_its_retries_are_spent() -> None:
    """A sample failing all 1 + 2 attempts is one error, counted only after the last."""
    task = Task(dataset=samples(3), solver=flaky(5)(), scorer=starts_with(), retry_on_error=2,
                fail_on_error=1)
    log, records = run(task)
    assert log.status == "success"  # 1 error is not more than 1
    assert counts(log) == (3, 2, 1, 0, 0)
    first = next(r for r in records if r.id == 1)
    assert first.attempts == 3
    assert len(first.error_history) == 2
    assert first.error is not None and first.error.message == "ConnectionResetError: flake 3"


def test_eval_refuses_negative_retry_on_error() -> None:
    """eval(retry_on_error=-1) is refused as a usage error before anything runs."""
    with pytest.raises(UsageError, match="retry_on_error"):
        eval(Task(dataset=samples(1)), model=MOCK, display="none", retry_on_error=-1)


def test_eval_retry_on_error_overrides_task() -> None:
    """eval(retry_on_error=1) retries though the Task says 0."""
    task = Task(dataset=samples(1), solver=flaky(1)(), scorer=starts_with())
    log, [record] = run(task, retry_on_error=1)
    assert log.status == "success"
    assert record.attempts == 2


# -- continue_on_fail ------------------------------------------------------------------


def test_continue_on_fail_runs_everything_then_fails() -> None:
    """continue_on_fail never stops early; the status is decided at the end."""
    task = Task(dataset=samples(5), solver=fail_for({1, 3}), scorer=starts_with(), epochs=2,
                continue_on_fail=True)
    log, records = run(task)
    assert len(records) == 10
    assert counts(log) == (10, 6, 4, 0, 0)
    assert log.status == "error"
    assert log.error is not None
    assert log.error.message == "4 of 10 samples failed (threshold True: any error)"


def test_continue_on_fail_under_the_threshold_succeeds() -> None:
    """continue_on_fail with errors within the threshold ends in success."""
    task = Task(dataset=samples(5), solver=fail_for({1}), scorer=starts_with(), epochs=2,
                continue_on_fail=True, fail_on_error=2)
    log, _ = run(task)
    assert log.status == "success"
    assert counts(log) == (10, 8, 2, 0, 0)


# -- cancelling the samples in flight --------------------------------------------------


@pytest.mark.anyio
async def test_threshold_cancels_samples_in_flight() -> None:
    """Passing the threshold records the samples still running as cancelled, and counts them."""
    in_flight = 0
    all_started = anyio.Event()

    @solver
    def blocking() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            nonlocal in_flight
            if state.sample_id == 1:
                await all_started.wait()  # fail only once samples 2-4 are running
                raise RuntimeError("sample 1 failed")
            in_flight += 1
            if in_flight == 3:
                all_started.set()
            await anyio.sleep_forever()  # until the threshold cancels it
            return state

        return solve

    task = Task(dataset=samples(6), solver=blocking(), scorer=starts_with())
    with anyio.fail_after(10):
        [log] = await eval_async(task, model=MOCK, display="none", max_samples=4)
    assert log.status == "error"
    assert counts(log) == (6, 0, 1, 0, 3)
    assert log.error is not None
    assert log.error.message.startswith("1 of 6 samples failed")
    assert "3 samples in flight were cancelled and 2 samples did not run" in log.error.message
    assert log.location is not None
    records = read_eval_log(log.location).samples or []
    assert sorted(r.id for r in records if r.cancelled) == [2, 3, 4]
    assert [r.id for r in records if r.error is not None] == [1]
    for record in records:
        if record.cancelled:
            assert record.error is None and record.scores is None


@pytest.mark.anyio
async def test_scorer_error_in_flight_with_others_keeps_them_whole() -> None:
    """A scorer raising while other samples run concurrently never breaks their records."""
    release = anyio.Event()

    @scorer(metrics=[accuracy()])
    def gated() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            if state.sample_id == 1:
                release.set()
                raise ZeroDivisionError("division by zero")
            await release.wait()
            await checkpoint()
            return Score(value=CORRECT)

        return score

    task = Task(dataset=samples(4), scorer=gated(), fail_on_error=False)
    with anyio.fail_after(10):
        [log] = await eval_async(task, model=MOCK, display="none", max_samples=4)
    assert log.status == "success"
    assert counts(log) == (4, 3, 1, 0, 0)
    assert log.location is not None
    records = read_eval_log(log.location).samples or []
    assert sorted(r.id for r in records) == [1, 2, 3, 4]
    assert all(r.scores is not None for r in records if r.id != 1)


# -- what the user sees ----------------------------------------------------------------


def test_results_table_and_warning_when_eval_succeeded() -> None:
    """The table shows every count; a warning names failed samples even on success."""
    task = Task(dataset=samples(4), solver=fail_for({1}), scorer=starts_with(),
                fail_on_error=0.5)
    log, _ = run(task)
    assert log.status == "success"
    header, row = results_text([log]).splitlines()
    assert header.split()[:8] == ["task", "model", "status", "total", "done", "errors",
                                  "limited", "cancelled"]
    assert row.split()[2:8] == ["success", "4", "3", "1", "0", "0"]
    notes = outcome_notes(log)
    assert notes[0].startswith("warning: 1 of 4 samples failed in task")
    assert not any(note.startswith("resume with") for note in notes)


def test_summary_of_a_failed_eval_prints_error_and_resume(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A threshold failure prints the eval error and the resume command."""
    log, _ = run(Task(dataset=samples(3), solver=fail_for({2}), scorer=starts_with()))
    err = capsys.readouterr().err
    assert "error: 1 of 3 samples failed (threshold True: any error)" in err
    assert f"resume with: {RETRY_FROM_SCRIPT} {log.location}" in err  # eval() here


TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import Generate, TaskState, solver


@solver
def fail_on(ids):
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id in ids:
            raise RuntimeError(f"failed on {state.sample_id}")
        return await generate(state)
    return solve


@task
def flaky_task():
    return Task(dataset=[Sample(id=i, input=str(i), target="x") for i in range(1, 6)],
                solver=fail_on({2, 4}))
'''


def test_cli_threshold_passed_exits_1_with_resume_command(tmp_path: Path) -> None:
    """CLI: a passed threshold exits 1 and prints the error and the resume command."""
    (tmp_path / "task.py").write_text(TASK_FILE)
    done = run_cli("eval", "task.py", "--model", MOCK, "--display", "none",
                   "--fail-on-error", "1", "--max-samples", "1", "--log-dir", "logs",
                   cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "error: 2 of 5 samples failed (threshold 1: more than 1 sample)" in done.stderr
    assert f"resume with: {RETRY_FROM_MODULE} logs/" in done.stderr
    assert "Traceback" not in done.stderr


def test_cli_no_fail_on_error_exits_0_with_warning(tmp_path: Path) -> None:
    """CLI: --no-fail-on-error succeeds (exit 0) and still warns about the failures."""
    (tmp_path / "task.py").write_text(TASK_FILE)
    done = run_cli("eval", "task.py", "--model", MOCK, "--display", "none",
                   "--no-fail-on-error", "--log-dir", "logs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning: 2 of 5 samples failed in flaky_task" in done.stderr


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e999"])
def test_cli_bad_value_exits_2_in_one_line(tmp_path: Path, value: str) -> None:
    """CLI: a bad --fail-on-error value exits 2 with one line and no traceback."""
    (tmp_path / "task.py").write_text(TASK_FILE)
    done = run_cli("eval", "task.py", "--model", MOCK, f"--fail-on-error={value}", cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("evalkit: error: fail_on_error (--fail-on-error) must be True")
    assert not (tmp_path / "logs").exists()


def test_eval_retry_fail_on_error_override(tmp_path: Path) -> None:
    """eval_retry(fail_on_error=False) finishes a run the threshold stopped."""
    from evalkit import eval_retry

    (tmp_path / "task.py").write_text(TASK_FILE)
    [first] = eval("task.py", model=MOCK, display="none", max_samples=1)
    assert first.status == "error"
    assert first.results is not None and first.results.completed_samples == 1
    [retried] = eval_retry(first, fail_on_error=False, display="none", max_samples=1)
    assert retried.status == "success"
    assert counts(retried) == (5, 3, 2, 0, 0)
