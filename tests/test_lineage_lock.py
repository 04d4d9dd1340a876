"""One writer per lineage: concurrent retries, a retry during its eval, a lock left by kill -9.

Real `evalkit` processes; sample executions are counted from the task's side-effect
file (tests/retry_tasks/counting.py), never from the logs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from evalkit import eval_retry
from evalkit._eval._lock import LineageLock, hold_lineages, lock_path
from evalkit.errors import LineageLockedError
from evalkit.log import read_eval_log, read_eval_log_header

TASK_FILE = REPO / "tests" / "retry_tasks" / "counting.py"
SAMPLES = 40
TIMEOUT = 30
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")


def failed_first_run(log_dir: Path) -> Path:
    """A log whose first sample failed and stopped the eval: 39 samples never ran."""
    done = run_cli("eval", str(TASK_FILE), "--model", "mockllm/model", "-T", f"n={SAMPLES}",
                   "--max-samples", "1", "--log-dir", str(log_dir), "--display", "none",
                   env={"RETRY_TEST_FAIL_IDS": "0"})
    assert done.returncode == 1, done.stderr
    [log] = log_dir.glob("*.jsonl.zst")
    return log


def start(args: list[str], side_file: Path, hold_file: Path) -> subprocess.Popen[str]:
    """`evalkit ARGS` whose samples each wait for ``hold_file`` before finishing."""
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", *args, "--display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "RETRY_TEST_SIDE_FILE": str(side_file),
             "RETRY_TEST_HOLD_FILE": str(hold_file)},
    )


def executions(side_file: Path) -> Counter[str]:
    return Counter(side_file.read_text().split()) if side_file.exists() else Counter()


def wait_for_file(path: Path, process: subprocess.Popen[str]) -> None:
    """Until ``path`` exists (the child made it), failing if the child ends first."""
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_concurrent_retries_of_one_log_run_each_sample_once(tmp_path: Path) -> None:
    """Three `eval-retry` of one log at once: one runs, two exit 2 naming it; no sample twice."""
    log = failed_first_run(tmp_path / "logs")
    side, hold = tmp_path / "side.txt", tmp_path / "hold"
    retries = [start(["eval-retry", str(log)], side, hold) for _ in range(3)]
    # Every sample of the retry that won waits for `hold`, so it still holds the lock
    # while the others try: each loser ends on its own, refused.
    deadline = time.monotonic() + TIMEOUT
    while len(losers := [p for p in retries if p.poll() is not None]) < len(retries) - 1:
        assert time.monotonic() < deadline, "the other retries were not refused"
        time.sleep(0.01)
    hold.touch()
    outputs = {process: process.communicate(timeout=TIMEOUT) for process in retries}
    [winner] = [process for process in retries if process not in losers]

    assert winner.returncode == 0, outputs[winner][1]
    for loser in losers:
        stderr = outputs[loser][1]
        assert loser.returncode == 2, stderr
        assert f"pid {winner.pid} on {socket.gethostname()}, started " in stderr
        assert "already writing task 'counting'" in stderr and "Traceback" not in stderr
    ran = executions(side)
    assert sum(ran.values()) == SAMPLES and max(ran.values()) == 1
    assert len(list(log.parent.glob("*.jsonl.zst"))) == 2  # the refused wrote no log
    assert not list(log.parent.glob(".evalkit-*.lock"))  # released and removed


def test_retry_while_its_eval_still_runs_is_refused(tmp_path: Path) -> None:
    """`eval-retry` of a log its eval is still writing: exit 2 naming the eval, nothing run."""
    log_dir, side, hold = tmp_path / "logs", tmp_path / "side.txt", tmp_path / "hold"
    original = start(["eval", str(TASK_FILE), "--model", "mockllm/model", "-T", "n=5",
                      "--log-dir", str(log_dir)], side, hold)
    wait_for_file(side, original)  # a sample runs: the header is on disk
    [log] = log_dir.glob("*.jsonl.zst")

    refused = run_cli("eval-retry", str(log), "--display", "none",
                      env={"RETRY_TEST_SIDE_FILE": str(tmp_path / "retry.txt")})
    hold.touch()
    _, stderr = original.communicate(timeout=TIMEOUT)

    assert refused.returncode == 2, refused.stderr
    assert f"pid {original.pid} on {socket.gethostname()}" in refused.stderr
    assert "evalkit eval" in refused.stderr  # the holder's command
    assert not (tmp_path / "retry.txt").exists()
    assert original.returncode == 0, stderr
    assert read_eval_log_header(log).status == "success"


def test_lock_of_a_killed_process_is_taken_over_silently(tmp_path: Path) -> None:
    """kill -9 leaves the lock file behind; the retry takes it over with no word and runs."""
    log_dir, side, hold = tmp_path / "logs", tmp_path / "side.txt", tmp_path / "hold"
    original = start(["eval", str(TASK_FILE), "--model", "mockllm/model", "-T", "n=5",
                      "--log-dir", str(log_dir)], side, hold)
    wait_for_file(side, original)
    original.send_signal(signal.SIGKILL)
    original.communicate(timeout=TIMEOUT)
    [log] = log_dir.glob("*.jsonl.zst")
    [left] = log_dir.glob(".evalkit-*.lock")
    assert str(original.pid) in left.read_text()

    hold.touch()
    done = run_cli("eval-retry", str(log), "--display", "none")

    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if not line.startswith("log: ")] == []
    assert not left.exists()
    [new_log] = set(log_dir.glob("*.jsonl.zst")) - {log}
    assert read_eval_log(new_log).status == "success"


def test_eval_retry_from_python_raises_lineage_locked(tmp_path: Path) -> None:
    """eval_retry() of a lineage another writer holds raises LineageLockedError, runs nothing."""
    log = failed_first_run(tmp_path / "logs")
    spec = read_eval_log_header(log).eval
    with LineageLock(log.parent, spec.task_id), \
            pytest.raises(LineageLockedError, match="already writing") as raised:
        eval_retry(log, display="none")
    assert raised.value.pid == os.getpid() and raised.value.host == socket.gethostname()
    assert len(list(log.parent.glob("*.jsonl.zst"))) == 1


def test_lock_api_acquire_release_holder_and_reentry(tmp_path: Path) -> None:
    """The lock names its holder, refuses a second taker, and frees (and removes) its file."""
    first, second = LineageLock(tmp_path, "abc"), LineageLock(tmp_path, "abc")
    assert first.holder() is None
    first.acquire()
    holder = second.holder()
    assert holder is not None and holder.pid == os.getpid()
    with pytest.raises(LineageLockedError, match=f"pid {os.getpid()}"):
        second.acquire()
    with pytest.raises(LineageLockedError):  # not re-entrant outside hold_lineages
        LineageLock(tmp_path, "abc").acquire()
    first.release()
    assert not lock_path(tmp_path, "abc").exists()
    with second:
        assert second.held
    lineage = [(tmp_path, "xyz", "task")]
    with hold_lineages(lineage), hold_lineages(lineage):  # nested: held once
        assert LineageLock(tmp_path, "xyz").holder() is not None
    assert LineageLock(tmp_path, "xyz").holder() is None
