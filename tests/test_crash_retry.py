"""Kill a real `evalkit eval` with SIGKILL / SIGINT mid-run, retry it, lose nothing.

Executions are counted from a side-effect file the task's solver appends to,
never from the log, so a retry that re-ran a finished sample would be caught.
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path

import pytest
from conftest import REPO, RETRY_FROM_MODULE, run_cli

from evalkit.errors import LogError
from evalkit.log import iter_sample_lines, read_eval_log, read_eval_log_header

TASK_FILE = REPO / "tests" / "retry_tasks" / "counting.py"
SAMPLES = 300
DEADLINE = 20.0
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start_eval(log_dir: Path, side_file: Path, *args: str) -> subprocess.Popen[str]:
    """`evalkit eval` in the background: 300 samples of 20 ms, 10 at a time (~0.6 s)."""
    return _start(["eval", str(TASK_FILE), "--model", "mockllm/model", "-M", "delay=0.02",
                   "-T", f"n={SAMPLES}", "--log-dir", str(log_dir), *args], side_file)


def start_retry(log: Path, side_file: Path) -> subprocess.Popen[str]:
    return _start(["eval-retry", str(log)], side_file)


def _start(args: list[str], side_file: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", *args, "--display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "RETRY_TEST_SIDE_FILE": str(side_file), **env},
    )


def wait_for_samples(log_dir: Path, at_least: int, exclude: Collection[Path] = ()) -> Path:
    """Poll until a new log in ``log_dir`` holds ``at_least`` samples (bounded wait)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        for path in set(log_dir.glob("*.jsonl.zst")) - set(exclude):
            try:
                if sum(1 for _ in iter_sample_lines(path)) >= at_least:
                    return path
            except LogError:
                pass  # header not flushed yet
        time.sleep(0.005)
    raise AssertionError(f"no log in {log_dir} reached {at_least} samples in {DEADLINE}s")


def kill(process: subprocess.Popen[str], signum: int = signal.SIGKILL) -> int:
    process.send_signal(signum)
    _, _ = process.communicate(timeout=DEADLINE)
    return process.returncode


def executions(side_file: Path) -> Counter[str]:
    """How many times the solver ran each `id:epoch` (from the side-effect file)."""
    if not side_file.exists():
        return Counter()
    return Counter(side_file.read_text().split())


def completed_keys(*logs: Path) -> set[str]:
    """`id:epoch` of every sample that finished without error in ``logs``."""
    return {f"{s.id}:{s.epoch}" for log in logs for s in read_eval_log(log).samples or []
            if s.error is None and not s.cancelled}


def assert_every_sample_once(log: Path) -> None:
    final = read_eval_log(log)
    keys = Counter(f"{s.id}:{s.epoch}" for s in final.samples or [])
    assert final.status == "success", final.error
    assert set(keys) == {f"{i}:1" for i in range(SAMPLES)}
    assert max(keys.values()) == 1, keys.most_common(3)


def retry_to_end(log: Path, side_file: Path) -> Path:
    """Run `evalkit eval-retry LOG` to completion; return the new log."""
    before = set(log.parent.glob("*.jsonl.zst"))
    done = run_cli("eval-retry", str(log), "--display", "none",
                   env={"RETRY_TEST_SIDE_FILE": str(side_file)})
    assert done.returncode == 0, done.stderr
    [new_log] = set(log.parent.glob("*.jsonl.zst")) - before
    return new_log


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_at_a_random_moment_then_retry_runs_exactly_the_missing(
    tmp_path: Path, seed: int
) -> None:
    """SIGKILL after a random number of samples; the retry runs only what is missing."""
    moment = random.Random(seed).randint(1, SAMPLES // 2)
    log_dir = tmp_path / "logs"
    process = start_eval(log_dir, tmp_path / "first.txt")
    killed_log = wait_for_samples(log_dir, moment)
    assert kill(process) == -signal.SIGKILL
    assert read_eval_log_header(killed_log).status == "started"
    finished = completed_keys(killed_log)
    assert len(finished) >= moment

    new_log = retry_to_end(killed_log, tmp_path / "retry.txt")

    ran = executions(tmp_path / "retry.txt")
    assert sum(ran.values()) == SAMPLES - len(finished)
    assert not set(ran) & finished  # not one finished sample ran again
    assert_every_sample_once(new_log)


def test_retry_killed_during_its_own_run_is_retried_with_nothing_lost(tmp_path: Path) -> None:
    """Kill the eval, kill its retry mid-way, retry the retry: every sample exactly once."""
    log_dir = tmp_path / "logs"
    first = start_eval(log_dir, tmp_path / "first.txt")
    first_log = wait_for_samples(log_dir, 40)
    kill(first)
    carried = len(list(iter_sample_lines(first_log)))

    retry = start_retry(first_log, tmp_path / "second.txt")
    second_log = wait_for_samples(log_dir, carried + 40, exclude={first_log})
    kill(retry)
    assert read_eval_log_header(second_log).eval.retry_of == \
        read_eval_log_header(first_log).eval.run_id
    finished = completed_keys(first_log, second_log)
    assert len(finished) >= carried + 40 - 20  # at most the cancelled in-flight ones differ

    final_log = retry_to_end(second_log, tmp_path / "third.txt")

    ran = executions(tmp_path / "third.txt")
    assert sum(ran.values()) == SAMPLES - len(finished)
    assert not set(ran) & finished
    assert_every_sample_once(final_log)
    task_ids = {read_eval_log_header(p).eval.task_id for p in (first_log, second_log, final_log)}
    assert len(task_ids) == 1


def test_sigint_records_cancelled_samples_prints_resume_and_exits_130(tmp_path: Path) -> None:
    """Ctrl-C: footer `cancelled`, in-flight samples recorded as cancelled, exit 130."""
    log_dir = tmp_path / "logs"
    process = start_eval(log_dir, tmp_path / "first.txt")
    log = wait_for_samples(log_dir, 50)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=DEADLINE)

    assert process.returncode == 130
    assert f"resume with: {RETRY_FROM_MODULE} {log_dir.name}/" in stderr \
        or f"resume with: {RETRY_FROM_MODULE} {log}" in stderr
    interrupted = read_eval_log(log)
    assert interrupted.status == "cancelled"
    assert interrupted.results is not None and interrupted.results.cancelled_samples >= 1
    assert sum(1 for s in interrupted.samples or [] if s.cancelled) == \
        interrupted.results.cancelled_samples
    finished = completed_keys(log)

    new_log = retry_to_end(log, tmp_path / "retry.txt")

    assert sum(executions(tmp_path / "retry.txt").values()) == SAMPLES - len(finished)
    assert_every_sample_once(new_log)


def test_second_sigint_exits_at_once_and_the_log_still_reads(tmp_path: Path) -> None:
    """Ctrl-C while stopping is slow, then Ctrl-C again: exit 130 at once, the log reads."""
    log_dir, side_file = tmp_path / "logs", tmp_path / "side.txt"
    process = _start(["eval", str(TASK_FILE), "--model", "mockllm/model", "-T", "n=3",
                      "--max-samples", "1", "--log-dir", str(log_dir)],
                     side_file, RETRY_TEST_SHIELD="30")
    wait_until(lambda: side_file.exists())  # sample 1 is in its 30 s uncancellable wait
    process.send_signal(signal.SIGINT)
    first = read_stderr_line(process, "stopping")
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=DEADLINE)

    assert time.monotonic() - started < 10  # did not wait out the 30 s
    assert process.returncode == 130
    assert "press Ctrl-C again" in first and "interrupted again: exiting now" in stderr
    [log] = log_dir.glob("*.jsonl.zst")
    assert f"resume with: {RETRY_FROM_MODULE} {log}" in stderr
    header = read_eval_log_header(log)  # the log still reads
    assert header.status == "started" and header.eval.task == "counting"
    assert list(iter_sample_lines(log)) == []


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def read_stderr_line(process: subprocess.Popen[str], needle: str) -> str:
    """The first stderr line containing ``needle``, waiting at most DEADLINE seconds."""
    assert process.stderr is not None
    deadline = time.monotonic() + DEADLINE
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if selector.select(timeout=deadline - time.monotonic()):
                line = process.stderr.readline()
                if needle in line:
                    return line
    raise AssertionError(f"no stderr line with {needle!r} within {DEADLINE}s")
