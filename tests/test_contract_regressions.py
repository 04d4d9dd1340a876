"""Regressions: contract breaks once found in retry, error policy, outcomes and the CLI.

Each test is the minimal reproduction of a bug a review found (each failed before its fix).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import run_cli

from evalkit import Task, eval, eval_retry
from evalkit.dataset import Sample
from evalkit.errors import QuotaExhaustedError, UsageError
from evalkit.log import read_eval_log
from evalkit.solver import Generate, Solver, TaskState, solver

MOCK = "mockllm/model"

# A task file whose behaviour is steered by environment variables, so a retry
# (which re-imports the file) sees the same code with new conditions.
STEERED_TASK = '''
import os

from anyio.lowlevel import checkpoint
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import solver


@solver
def steered():
    async def solve(state, generate):
        key = f"{state.sample_id}:{state.epoch}"
        if key in os.environ.get("REVIEW_FAIL", "").split(","):
            raise RuntimeError(f"deterministic failure of {key}")
        for _ in range(int(os.environ.get("REVIEW_SLOW", "0"))):
            await checkpoint()  # slower than a sample that fails at once
        if state.target.text in os.environ.get("REVIEW_FAIL_TARGET", "-").split(","):
            raise RuntimeError(f"failure for target {state.target.text}")
        return await generate(state)
    return solve


@task
def ordered(n: int = 6):
    return Task(dataset=[Sample(id=i, input=f"q{i}") for i in range(n)], solver=steered())


@task
def typed_ids(epochs: int = 2):
    conv = str if os.environ.get("REVIEW_ID_TYPE") == "str" else int
    return Task(dataset=[Sample(id=conv(i), input=f"q{i}", target="Default") for i in (1, 2, 3)],
                solver=steered(), epochs=epochs, fail_on_error=False)


@task
def duplicated():
    return Task(dataset=[Sample(id=1, input="same question", target="A"),
                         Sample(id=1, input="same question", target="B")],
                solver=steered(), fail_on_error=False)
'''


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    path = tmp_path / "review_tasks.py"
    path.write_text(STEERED_TASK)
    return path


def _run_file(task_file: Path, name: str, log_dir: Path, **options: Any) -> Any:
    [log] = eval(f"{task_file}@{name}", model=MOCK, log_dir=str(log_dir), display="none",
                 **options)
    return log


# -- 1. crash safety and retry ---------------------------------------------------------


def test_retry_finishes_never_run_samples_before_a_deterministic_failure_stops_it(
    task_file: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry runs the never-run samples to the end before re-trying the erred one."""
    monkeypatch.setenv("REVIEW_FAIL", "0:1")  # sample 0 always fails, at once
    monkeypatch.setenv("REVIEW_SLOW", "50")  # the others take a few scheduler turns
    first = _run_file(task_file, "ordered", log_dir)
    assert first.status == "error" and first.results.completed_samples == 0  # 5 never ran

    [retried] = eval_retry(str(first.location), display="none")

    assert retried.results is not None
    assert retried.results.completed_samples == 5  # is 0: all five cancelled again
    assert retried.results.errored_samples == 1


def test_duplicate_sample_ids_are_refused_or_each_sample_is_kept(
    task_file: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two samples sharing an id: either a clear error up front, or a retry keeps both."""
    monkeypatch.setenv("REVIEW_FAIL_TARGET", "B")
    try:
        first = _run_file(task_file, "duplicated", log_dir)
    except UsageError:
        return  # refusing duplicate ids up front (as Inspect does) is a fix
    assert first.results.errored_samples == 1
    monkeypatch.delenv("REVIEW_FAIL_TARGET")

    [retried] = eval_retry(str(first.location), display="none")

    samples = read_eval_log(str(retried.location)).samples or []
    assert sorted(str(s.target) for s in samples) == ["A", "B"]  # is ["A", "A"]


def test_an_id_that_changed_type_is_one_sample_in_the_epoch_metrics(
    task_file: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sample 1 carried with id 1 and re-run with id "1" is reduced as one sample."""
    monkeypatch.setenv("REVIEW_FAIL", "1:2")
    first = _run_file(task_file, "typed_ids", log_dir)
    assert first.results.errored_samples == 1
    monkeypatch.setenv("REVIEW_FAIL", "")
    monkeypatch.setenv("REVIEW_ID_TYPE", "str")  # e.g. the ids now come from a CSV

    [retried] = eval_retry(str(first.location), display="none")

    assert retried.results is not None and retried.results.completed_samples == 6
    assert retried.results.scores[0].scored_samples == 3  # is 4


# -- 2. error policy and outcomes ------------------------------------------------------


@solver
def quota_after_a_turn(fail_id: int | None) -> Solver:
    """Sample ``fail_id`` hits a quota error; the others wait until cancelled."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id == fail_id:
            await anyio.wait_all_tasks_blocked()  # every other sample is in flight
            raise QuotaExhaustedError("insufficient_quota", status_code=429)
        await anyio.sleep_forever()
        return state

    return solve


def _quota_tasks() -> list[Task]:
    dataset = [Sample(id=i, input=f"q{i}") for i in range(3)]
    return [Task(dataset=dataset, solver=quota_after_a_turn(0), name="quota"),
            Task(dataset=dataset, solver=quota_after_a_turn(None), name="bystander")]


def test_a_task_stopped_by_another_tasks_quota_abort_is_not_success(log_dir: Path) -> None:
    """With --max-tasks 2, the task cut short by the other's quota abort is not 'success'."""
    logs = eval(_quota_tasks(), model=MOCK, display="none", max_tasks=2)

    by_task = {log.eval.task: log for log in logs}
    bystander = by_task["bystander"]
    assert bystander.results is not None and bystander.results.cancelled_samples == 3
    assert bystander.status != "success"  # is "success", with 0 of 3 samples done


def test_every_task_of_an_aborted_eval_has_a_log_to_resume(log_dir: Path) -> None:
    """With --max-tasks 1, the task that never started still gets a resumable log."""
    logs = eval(_quota_tasks(), model=MOCK, display="none", max_tasks=1)

    assert [log.eval.task for log in logs] == ["quota", "bystander"]  # is ["quota"]


# -- 4. one-line errors instead of tracebacks ------------------------------------------


def test_sample_id_selects_zero_padded_string_ids(tmp_path: Path) -> None:
    """`--sample-id 001` selects the sample whose id is the string "001"."""
    (tmp_path / "padded.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n"
        "@task\ndef padded():\n"
        "    return Task(dataset=[Sample(id=f'{i:03d}', input=f'q{i}') for i in range(3)])\n")
    result = run_cli("eval", "padded.py", "--model", MOCK, "--display", "none",
                     "--sample-id", "001", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr  # is 2: "no sample with id 1"


def test_an_unusable_log_dir_is_a_one_line_usage_error(tmp_path: Path) -> None:
    """`--log-dir` naming a file gives exit 2 and one line, not a traceback."""
    (tmp_path / "t.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n"
        "@task\ndef t():\n    return Task(dataset=[Sample(input='q')])\n")
    (tmp_path / "not_a_dir").write_text("")
    result = run_cli("eval", "t.py", "--model", MOCK, "--display", "none",
                     "--log-dir", "not_a_dir", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_task_file_with_a_syntax_error_is_a_one_line_error(tmp_path: Path) -> None:
    """A task file that does not parse: exit 2, file and line named, no traceback."""
    (tmp_path / "broken.py").write_text("x = = 1\n")
    result = run_cli("eval", "broken.py", "--model", MOCK, "--display", "none", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "broken.py" in result.stderr


def test_a_bad_model_arg_value_is_a_one_line_error(tmp_path: Path) -> None:
    """`-M delay=abc` gives exit 2 and names the -M value, not a traceback."""
    (tmp_path / "t.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n"
        "@task\ndef t():\n    return Task(dataset=[Sample(input='q')])\n")
    result = run_cli("eval", "t.py", "--model", MOCK, "--display", "none",
                     "-M", "delay=abc", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "-M" in result.stderr


# -- performance of the lineage scan ---------------------------------------------------


def test_the_lineage_scan_reads_an_errored_line_without_a_full_decode(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """scan_sample_line classifies an ordinary errored sample on its fast path."""
    from evalkit._eval import _lineage
    from evalkit.log import EvalError, EvalSample

    line = EvalSample(id=1, input="x", input_hash="abc", attempts=1, error=EvalError(
        message="boom", phase="solver", kind="RuntimeError")).model_dump_json(
        exclude_none=True).encode()
    decoded: list[bytes] = []
    original = _lineage._decode_sample_line

    def counting_decode(raw: bytes) -> _lineage.PastSample:
        decoded.append(raw)
        return original(raw)

    monkeypatch.setattr(_lineage, "_decode_sample_line", counting_decode)

    past = _lineage.scan_sample_line(line)

    assert past.status == "error" and past.attempts == 1
    assert decoded == []
