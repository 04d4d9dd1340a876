"""``eval_set()`` in-process: members, idempotence, manifest, locks, rounds, pools."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint
from conftest import REPO

from evalkit import Task, eval, eval_set, eval_set_async
from evalkit._eval._config import EvalConfig
from evalkit._eval._eval_set_plan import member_of
from evalkit._eval._lock import LineageLock
from evalkit._eval._resolve import resolve_tasks
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log_header
from evalkit.model._mock import MockLLM

TASKS = ("grid.py@alpha", "grid.py@beta")
MODELS = ["mockllm/model", "mockllm/other"]


@pytest.fixture
def grid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The grid tasks in the working directory; solver starts go to ``starts.txt``."""
    shutil.copy(REPO / "tests" / "eval_set_tasks" / "grid.py", tmp_path / "grid.py")
    monkeypatch.setenv("SET_TEST_STARTS", str(tmp_path / "starts.txt"))
    return tmp_path


def starts(grid: Path) -> Counter[str]:
    path = grid / "starts.txt"
    return Counter(path.read_text().split()) if path.exists() else Counter()


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file in ``directory`` with its size and modification time."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_grid_completes_and_a_rerun_writes_nothing(grid: Path) -> None:
    """2 tasks x 2 models: four complete logs; the same call again runs no sample
    and leaves the directory byte for byte as it was."""
    success, logs = eval_set(list(TASKS), "logs", model=MODELS, display="none")

    assert success
    assert sorted((log.eval.task, log.eval.model, log.status) for log in logs) == [
        ("alpha", "mockllm/model", "success"), ("alpha", "mockllm/other", "success"),
        ("beta", "mockllm/model", "success"), ("beta", "mockllm/other", "success")]
    assert sum(starts(grid).values()) == 24
    before = snapshot(grid / "logs")

    again, logs_again = eval_set(list(TASKS), "logs", model=MODELS, display="none")

    assert again and len(logs_again) == 4
    assert snapshot(grid / "logs") == before
    assert sum(starts(grid).values()) == 24


def test_a_member_started_by_plain_eval_is_found_by_its_header(grid: Path) -> None:
    """A lineage `evalkit eval` wrote (random task_id) is the member's: it is skipped."""
    [log] = eval("grid.py@alpha", model="mockllm/model", log_dir="logs", display="none")

    success, logs = eval_set(["grid.py@alpha"], "logs", model="mockllm/model", display="none")

    assert success and [Path(str(x.location)).name for x in logs] == [
        Path(str(log.location)).name]
    assert sum(starts(grid).values()) == 6


def test_a_larger_limit_extends_a_member_running_only_the_new_samples(grid: Path) -> None:
    """A member complete for --limit 3 is incomplete for --limit 5: only 3 and 4 run."""
    eval_set(["grid.py@alpha"], "logs", model="mockllm/model", limit=3, display="none")

    success, [log] = eval_set(["grid.py@alpha"], "logs", model="mockllm/model", limit=5,
                              display="none")

    assert success and log.results is not None and log.results.completed_samples == 5
    assert starts(grid) == Counter(f"alpha|mockllm/model|{i}|1" for i in range(5))


def test_task_args_are_part_of_a_members_identity(grid: Path) -> None:
    """-T n=2 and -T n=4 are two members (two lineages), each run once."""
    eval_set(["grid.py@alpha"], "logs", model="mockllm/model", task_args={"n": 2},
             display="none")
    success, [log] = eval_set(["grid.py@alpha"], "logs", model="mockllm/model",
                              task_args={"n": 4}, display="none", allow_new_members=True)

    assert success and log.eval.task_args == {"n": 4}
    assert len({read_eval_log_header(p).eval.task_id
                for p in (grid / "logs").glob("*.jsonl.zst")}) == 2
    assert sum(starts(grid).values()) == 6


def test_a_different_set_in_the_same_directory_is_refused(grid: Path) -> None:
    """New members are refused (nothing runs, the manifest is unchanged) unless
    allow_new_members, which adds them to the manifest."""
    eval_set(["grid.py@alpha"], "logs", model="mockllm/model", display="none")
    manifest = (grid / "logs" / "eval-set.json").read_text()

    with pytest.raises(UsageError, match=r"another eval set.*allow-new-members"):
        eval_set(["grid.py@beta"], "logs", model="mockllm/model", display="none")

    assert (grid / "logs" / "eval-set.json").read_text() == manifest
    assert sum(starts(grid).values()) == 6
    success, _ = eval_set(["grid.py@beta"], "logs", model="mockllm/model", display="none",
                          allow_new_members=True)
    assert success
    members = json.loads((grid / "logs" / "eval-set.json").read_text())["members"]
    assert sorted(m["task"] for m in members) == ["alpha", "beta"]


def test_a_subset_of_the_set_runs_without_asking(grid: Path) -> None:
    """Running part of the set again (one model) is not a different set."""
    eval_set(list(TASKS), "logs", model=MODELS, display="none")

    success, logs = eval_set(["grid.py@beta"], "logs", model="mockllm/other", display="none")

    assert success and len(logs) == 1


def test_a_member_locked_by_another_process_is_reported_not_run(grid: Path) -> None:
    """A member whose lineage lock is held elsewhere is left alone; the rest run."""
    config = EvalConfig(log_dir="logs")
    [alpha] = resolve_tasks("grid.py@alpha", {})
    locked = member_of(alpha, config, "mockllm/model")
    (grid / "logs").mkdir()

    with LineageLock(grid / "logs", locked.key):
        success, logs = eval_set(["grid.py@alpha"], "logs", model=MODELS, display="none")

    assert not success
    assert [(log.eval.model, log.status) for log in logs] == [("mockllm/other", "success")]
    assert set(starts(grid)) == {f"alpha|mockllm/other|{i}|1" for i in range(6)}


def test_rounds_finish_a_member_whose_samples_fail_once(
    grid: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Samples that fail on their first run are re-run in the next round, in-process."""
    shutil.copy(REPO / "tests" / "retry_tasks" / "counting.py", grid / "counting.py")
    (tmp_path / "once").mkdir()
    monkeypatch.setenv("RETRY_TEST_FAIL_ONCE_DIR", str(tmp_path / "once"))

    success, [log] = eval_set(["counting.py@counting"], "logs", model="mockllm/model",
                              task_args={"n": 4}, display="none")

    assert success and log.results is not None
    assert (log.results.completed_samples, log.results.errored_samples) == (4, 0)
    assert len(list((grid / "logs").glob("*.jsonl.zst"))) == 2  # the run and one round


@pytest.mark.parametrize(("fail_on_error", "status"), [(False, "success"), (True, "error")])
def test_a_deterministic_failure_ends_after_max_attempts(
    grid: Path, monkeypatch: pytest.MonkeyPatch, fail_on_error: bool, status: str
) -> None:
    """A sample that always fails runs --max-attempts times and no more; fail_on_error
    decides the member's status; every other sample ran once."""
    shutil.copy(REPO / "tests" / "retry_tasks" / "counting.py", grid / "counting.py")
    side = grid / "side.txt"
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(side))
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "2")

    success, [log] = eval_set(["counting.py@counting"], "logs", model="mockllm/model",
                              task_args={"n": 5}, fail_on_error=fail_on_error, max_attempts=2,
                              display="none")

    ran = Counter(line.split(":")[0] for line in side.read_text().split())
    assert ran == {"0": 1, "1": 1, "2": 2, "3": 1, "4": 1}
    assert log.status == status and success == (status == "success")
    before = snapshot(grid / "logs")
    eval_set(["counting.py@counting"], "logs", model="mockllm/model", task_args={"n": 5},
             fail_on_error=fail_on_error, max_attempts=2, display="none")
    assert snapshot(grid / "logs") == before  # out of attempts: nothing more to do


def test_repeated_members_and_missing_models_are_usage_errors(grid: Path) -> None:
    """The same task twice, or no model, is refused before anything runs."""
    with pytest.raises(UsageError, match="more than once"):
        eval_set(["grid.py@alpha", "grid.py@alpha"], "logs", model="mockllm/model")
    with pytest.raises(UsageError, match="no model"):
        eval_set(["grid.py@alpha"], "logs")
    assert not (grid / "logs").exists()


@pytest.mark.anyio
async def test_a_grid_shares_one_connection_pool_per_model(
    log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 tasks x 2 models run at once (max_tasks 8) with max_connections 2: each model
    has exactly 2 calls in flight, however many of its tasks run."""
    release = anyio.Event()
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    original = MockLLM.generate

    async def held(self: MockLLM, *args: object, **kwargs: object) -> object:
        in_flight[self.model_name] += 1
        peak[self.model_name] = max(peak[self.model_name], in_flight[self.model_name])
        await release.wait()
        in_flight[self.model_name] -= 1
        return await original(self, *args, **kwargs)  # type: ignore[arg-type]  # pass-through

    monkeypatch.setattr(MockLLM, "generate", held)
    monkeypatch.setattr(MockLLM, "max_connections", lambda self: 2)
    tasks = [Task(dataset=[Sample(id=i, input=f"q{i}") for i in range(4)], name=f"t{n}")
             for n in range(4)]
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: eval_set_async(tasks, str(log_dir), model=MODELS,
                                                max_tasks=8, max_connections=2,
                                                display="none"))
        with anyio.fail_after(10):
            while sum(in_flight.values()) < 4:
                await checkpoint()
            await wait_all_tasks_blocked()
        assert dict(in_flight) == {"model": 2, "other": 2}
        release.set()
    assert dict(peak) == {"model": 2, "other": 2}


@pytest.mark.anyio
async def test_eval_set_inside_a_running_loop(grid: Path) -> None:
    """eval_set() called where an event loop runs (a notebook) works like eval()."""
    success, logs = eval_set(["grid.py@alpha"], "logs", model="mockllm/model", display="none")

    assert success and logs[0].status == "success"
    assert logs[0].samples is not None and len(logs[0].samples) == 6
