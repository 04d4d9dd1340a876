"""``--until-complete``: rounds run every retryable sample; only provider aborts wait."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import anyio
import pytest
from conftest import REPO, run_cli

from evalkit import Task, eval, eval_retry
from evalkit._eval import _retry
from evalkit.dataset import Sample
from evalkit.errors import QuotaExhaustedError, RetryError
from evalkit.log import EvalLog, read_eval_log_header
from evalkit.solver import Generate, Solver, TaskState, solver

FAILING = ("3", "11", "22", "37")
MAX_ATTEMPTS = 3


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    path = tmp_path / "counting.py"
    shutil.copy(REPO / "tests" / "retry_tasks" / "counting.py", path)
    return path


@pytest.fixture
def side_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each solver execution appends ``id:epoch`` here; 4 of 40 samples always fail."""
    path = tmp_path / "executions.txt"
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(path))
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", ",".join(FAILING))
    return path


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits asked for between rounds (none is actually slept)."""
    asked: list[float] = []

    async def no_sleep(seconds: float) -> bool:
        asked.append(seconds)
        return False

    monkeypatch.setattr(_retry, "_sleep_unless_interrupted", no_sleep)
    return asked


def executions(side_file: Path) -> Counter[str]:
    return Counter(line.split(":")[0] for line in side_file.read_text().split())


def logs_in(log_dir: Path) -> list[Path]:
    return list(log_dir.glob("*.jsonl.zst"))


@pytest.mark.parametrize("fail_on_error", [True, False])
def test_until_complete_with_four_always_failing_samples_of_forty(
    task_file: Path, log_dir: Path, side_file: Path, waits: list[float], fail_on_error: bool
) -> None:
    """4 always-failing samples of 40 end within --max-attempts rounds with no backoff:
    every failing sample ran exactly max_attempts times, every other one once."""
    [first] = eval(f"{task_file}@counting", model="mockllm/model", task_args={"n": 40},
                   fail_on_error=fail_on_error, display="none", log_dir=str(log_dir))

    [final] = eval_retry(str(first.location), display="none", until_complete=True,
                         max_attempts=MAX_ATTEMPTS)

    assert waits == []
    assert len(logs_in(log_dir)) - 1 <= MAX_ATTEMPTS  # rounds: one new log each
    ran = executions(side_file)
    assert {sample: ran[sample] for sample in FAILING} == dict.fromkeys(FAILING, MAX_ATTEMPTS)
    assert all(count == 1 for sample, count in ran.items() if sample not in FAILING)
    assert len(ran) == 40
    assert final.results is not None
    assert (final.results.completed_samples, final.results.errored_samples,
            final.results.cancelled_samples) == (36, 4, 0)
    assert final.status == ("error" if fail_on_error else "success")
    # The rounds ran to the end without recording continue_on_fail in their headers.
    assert not read_eval_log_header(str(final.location)).eval.config.get("continue_on_fail")


def test_until_complete_on_the_cli_never_waits_after_sample_errors(
    task_file: Path, log_dir: Path, side_file: Path
) -> None:
    """CLI: with --backoff 600, rounds of sample errors still end in seconds (exit 1)."""
    [first] = eval(f"{task_file}@counting", model="mockllm/model", task_args={"n": 40},
                   display="none", log_dir=str(log_dir))

    done = run_cli("eval-retry", str(first.location), "--until-complete", "--backoff", "600",
                   "--display", "none", timeout=120)

    assert done.returncode == 1, done.stderr
    assert "in 600s" not in done.stderr
    assert "nothing left to retry" in done.stderr
    assert executions(side_file)["3"] == MAX_ATTEMPTS


def test_a_complete_log_is_not_run_again(task_file: Path, log_dir: Path,
                                         waits: list[float],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """--until-complete on a log where every sample completed writes no new log."""
    monkeypatch.delenv("RETRY_TEST_FAIL_IDS", raising=False)
    [first] = eval(f"{task_file}@counting", model="mockllm/model", task_args={"n": 3},
                   display="none", log_dir=str(log_dir))

    [final] = eval_retry(str(first.location), display="none", until_complete=True)

    assert final.location == first.location and final.status == "success"
    assert len(logs_in(log_dir)) == 1


def test_backoff_applies_after_a_provider_abort(log_dir: Path, waits: list[float]) -> None:
    """A quota abort makes the next round wait --backoff; the retry then finishes."""
    aborted = False

    @solver
    def out_of_credit_once() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            nonlocal aborted
            if not aborted:
                aborted = True
                raise QuotaExhaustedError("credit exhausted")
            return await generate(state)

        return solve

    task = Task(dataset=[Sample(id=i, input=f"q{i}") for i in range(3)],
                solver=out_of_credit_once())
    [log] = eval(task, model="mockllm/model", display="none", max_samples=1,
                 retry_attempts=3, retry_wait=7)

    assert waits == [7]
    assert log.status == "success"
    assert isinstance(log, EvalLog) and log.results is not None
    assert log.results.completed_samples == 3


def test_a_log_that_cannot_be_retried_is_refused_up_front(log_dir: Path) -> None:
    """--until-complete on a log of a task made without @task is refused (RetryError,
    exit 2), as a plain retry is; it is not a warning with the old log returned."""
    task = Task(dataset=[Sample(id=1, input="q")], solver=failing())
    [first] = eval(task, model="mockllm/model", display="none")
    assert first.status == "error"

    with pytest.raises(RetryError, match="not made by a @task function"):
        eval_retry(str(first.location), display="none", until_complete=True)


@solver
def failing() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        raise RuntimeError("always")

    return solve


def test_an_eval_the_user_cancelled_is_not_retried(log_dir: Path) -> None:
    """retry_attempts never starts a round after the user cancelled the eval (Ctrl-C)."""
    task = Task(dataset=[Sample(id=1, input="q")], solver=failing())
    [first] = eval(task, model="mockllm/model", display="none")
    cancelled = first.model_copy(update={"status": "cancelled"})  # as a Ctrl-C leaves it

    [final] = anyio.run(lambda: _retry.retry_until_complete(
        [cancelled], attempts=3, backoff=0, overrides={}, tasks=[task]))

    assert final is cancelled
    assert len(logs_in(log_dir)) == 1
