"""``evalkit eval-set`` in real subprocesses: complete, idempotent, killed, out of quota."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EVALKIT_FROM_MODULE, REPO, run_cli

from evalkit.errors import LogError
from evalkit.log import read_eval_log_header, read_eval_log_samples
from evalkit.testing import Fault, ProviderServer
from evalkit.testing._provider_server import last_user_text

GRID = ["eval-set", "grid.py@alpha", "grid.py@beta", "--model", "mockllm/model,mockllm/other",
        "--log-dir", "logs", "--display", "none"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copy(REPO / "tests" / "eval_set_tasks" / "grid.py", tmp_path / "grid.py")
    return tmp_path


def starts(workdir: Path) -> Counter[str]:
    """Solver starts by ``task|model|id|epoch``."""
    path = workdir / "starts.txt"
    return Counter(path.read_text().split()) if path.exists() else Counter()


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in directory.iterdir()}


def latest_logs(directory: Path) -> dict[tuple[str, str], Path]:
    """The newest log of each (task, model)."""
    found: dict[tuple[str, str], tuple[str, Path]] = {}
    for path in directory.glob("*.jsonl.zst"):
        spec = read_eval_log_header(path).eval
        key = (spec.task, spec.model)
        if key not in found or spec.created > found[key][0]:
            found[key] = (spec.created, path)
    return {key: path for key, (_, path) in found.items()}


def test_grid_completes_then_a_rerun_does_nothing(workdir: Path) -> None:
    """2 tasks x 2 models exit 0 with four complete logs; the same command again exits
    0, runs no sample and writes nothing."""
    env = {"SET_TEST_STARTS": str(workdir / "starts.txt")}
    first = run_cli(*GRID, cwd=workdir, env=env)
    assert first.returncode == 0, first.stderr
    logs = latest_logs(workdir / "logs")
    assert len(logs) == 4
    assert all(read_eval_log_header(p).status == "success" for p in logs.values())
    assert sum(starts(workdir).values()) == 24
    before = snapshot(workdir / "logs")

    second = run_cli(*GRID, cwd=workdir, env=env)

    assert second.returncode == 0, second.stderr
    assert snapshot(workdir / "logs") == before
    assert sum(starts(workdir).values()) == 24


def _completed(directory: Path) -> set[str]:
    """``task|model|id|epoch`` of every completed sample in ``directory``'s logs."""
    done = set()
    for path in directory.glob("*.jsonl.zst"):
        spec = read_eval_log_header(path).eval
        for sample in read_eval_log_samples(path):
            if sample.error is None and not sample.cancelled:
                done.add(f"{spec.task}|{spec.model}|{sample.id}|{sample.epoch}")
    return done


def _wait_for_completed(directory: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the set ended before it was killed"
        try:
            if len(_completed(directory)) >= count:
                return
        except (LogError, OSError):  # a log still being created: look again
            pass
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} samples completed in time")


def test_sigkill_mid_run_then_the_same_command_finishes_it(workdir: Path) -> None:
    """Killed with SIGKILL while every member has 3 of 6 samples done and 3 in flight
    (no footers), the same command finishes the set: no completed sample starts twice."""
    env = {**os.environ, "SET_TEST_STARTS": str(workdir / "starts.txt"),
           "SET_TEST_HOLD_FROM": "3", "SET_TEST_HOLD_FILE": str(workdir / "never")}
    process = subprocess.Popen([sys.executable, "-m", "evalkit", *GRID, "--max-tasks", "4"],
                               cwd=workdir, env=env, text=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        _wait_for_completed(workdir / "logs", 12, process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    done_before = _completed(workdir / "logs")
    assert len(done_before) == 12
    assert all(read_eval_log_header(p).status == "started"
               for p in (workdir / "logs").glob("*.jsonl.zst"))

    again = run_cli(*GRID, cwd=workdir, env={"SET_TEST_STARTS": str(workdir / "starts.txt")})

    assert again.returncode == 0, again.stderr
    ran = starts(workdir)
    assert {key: ran[key] for key in done_before} == dict.fromkeys(done_before, 1)
    assert len(ran) == 24
    for path in latest_logs(workdir / "logs").values():
        log = read_eval_log_header(path)
        assert log.status == "success" and log.results is not None
        assert log.results.completed_samples == 6
    before = snapshot(workdir / "logs")
    assert run_cli(*GRID, cwd=workdir).returncode == 0
    assert snapshot(workdir / "logs") == before
    listing = run_cli("log", "ls", "logs", cwd=workdir).stdout.splitlines()
    runs_column = listing[0].index("runs")
    assert [(line.split()[4], line[runs_column:].split()[0]) for line in listing[1:]] == [
        ("success", "2")] * 4  # a row per member: its latest run, of the killed one and it


def test_a_different_set_in_the_directory_exits_2_and_writes_nothing(workdir: Path) -> None:
    """A new member is refused with a one-line reason naming --allow-new-members."""
    assert run_cli(*GRID, cwd=workdir).returncode == 0
    before = snapshot(workdir / "logs")

    other = run_cli("eval-set", "grid.py@alpha", "--model", "mockllm/third", "--log-dir",
                    "logs", cwd=workdir)

    assert other.returncode == 2
    assert "--allow-new-members" in other.stderr and "Traceback" not in other.stderr
    assert snapshot(workdir / "logs") == before


class QuotaAfter:
    """Echoes the prompt; after ``n`` answers the server is out of quota."""

    def __init__(self, n: int) -> None:
        self.n, self.answered = n, 0
        self.server: ProviderServer | None = None

    def __call__(self, prompt: str) -> str:
        self.answered += 1
        if self.answered == self.n and self.server is not None:
            self.server.inject_always(Fault.insufficient_quota())
        return prompt


@pytest.fixture
def quota_server() -> Iterator[ProviderServer]:
    answer = QuotaAfter(5)
    with ProviderServer(answer=answer) as server:
        answer.server = server
        yield server


def _asked(server: ProviderServer, since: int = 0) -> list[str]:
    return [f"{r.json['model']}|{last_user_text(r.json['messages'])}"
            for r in server.requests[since:]]


def test_quota_exits_3_and_a_rerun_after_it_returns_finishes_the_set(
    workdir: Path, quota_server: ProviderServer
) -> None:
    """Out of quota, the set exits 3 and prints the command that finishes it; once the
    quota is back, that command exits 0 asking only for samples not yet completed."""
    command = ["eval-set", "grid.py@alpha", "--model", "openai/m1,openai/m2", "--log-dir",
               "logs", "--model-base-url", quota_server.openai_base_url, "--max-samples", "1",
               "--retry-attempts", "0", "--display", "plain"]
    env = {"OPENAI_API_KEY": "sk-test-not-a-real-key"}

    first = run_cli(*command, cwd=workdir, env=env)

    assert first.returncode == 3, first.stderr
    assert f"finish it with: {EVALKIT_FROM_MODULE} eval-set grid.py@alpha" in first.stderr
    # As the server sees them: the model's name without its provider, and the prompt.
    done_before = {f"{model.split('/')[1]}|{task} question {sample_id}" for task, model,
                   sample_id, _ in (key.split("|") for key in _completed(workdir / "logs"))}
    assert 0 < len(done_before) < 12

    quota_server.clear_faults()
    asked = len(quota_server.requests)
    second = run_cli(*command, cwd=workdir, env=env)

    assert second.returncode == 0, second.stderr
    asked_again = _asked(quota_server, asked)
    assert len(asked_again) == 12 - len(done_before)
    assert not done_before & set(asked_again)
    assert all(read_eval_log_header(p).status == "success"
               for p in latest_logs(workdir / "logs").values())


def test_ctrl_c_exits_130_with_the_command_that_finishes_the_set(workdir: Path) -> None:
    """SIGINT mid-run: exit 130, samples in flight recorded as cancelled, and the last
    lines give the set's own command; running it finishes the set."""
    env = {**os.environ, "SET_TEST_HOLD_FROM": "3", "SET_TEST_HOLD_FILE": str(workdir / "no")}
    process = subprocess.Popen([sys.executable, "-m", "evalkit", *GRID, "--max-tasks", "4"],
                               cwd=workdir, env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        _wait_for_completed(workdir / "logs", 12, process)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert f"finish it with: {EVALKIT_FROM_MODULE} {' '.join(GRID)} --max-tasks 4" in stderr
    assert {read_eval_log_header(p).status for p in (workdir / "logs").glob("*.jsonl.zst")} == {
        "cancelled"}
    assert run_cli(*GRID, cwd=workdir).returncode == 0
