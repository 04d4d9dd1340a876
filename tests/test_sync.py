"""Sync entry points inside a running event loop (as in Jupyter), and interrupting them."""

from __future__ import annotations

import _thread
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import RETRY_FROM_SCRIPT, samples_in_live_log

from evalkit import Task, eval, eval_async, eval_retry
from evalkit._eval import _sync
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log, read_eval_log_header
from evalkit.scorer import includes
from evalkit.solver import Generate, TaskState, solver

pytestmark = pytest.mark.anyio

TASK_FILE = """
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes
from evalkit.solver import solver

FAIL = {fail!r}


@solver
def maybe_fail():
    async def solve(state, generate):
        if state.sample_id in FAIL:
            raise RuntimeError("planned failure")
        return await generate(state)
    return solve


@task
def greet():
    return Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(1, 5)],
                solver=maybe_fail(), scorer=includes())
"""


def _hello(samples: int = 3) -> Task:
    return Task(dataset=[Sample(id=i, input="Say hi", target="output") for i in range(samples)],
                scorer=includes(), name="hello")


async def test_eval_inside_running_loop_matches_a_script(log_dir: Path) -> None:
    """eval() called in a running loop runs in a worker thread with a script's results."""
    asyncio_loop_thread = threading.current_thread()
    [log] = eval(_hello(), model="mockllm/model", display="none")
    assert threading.current_thread() is asyncio_loop_thread
    assert log.status == "success"
    assert log.results is not None
    assert (log.results.total_samples, log.results.completed_samples) == (3, 3)
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    on_disk = read_eval_log(str(log.location))
    assert on_disk.status == "success"
    assert sorted(sample.id for sample in on_disk.samples or []) == [0, 1, 2]


async def test_eval_async_awaited_directly(log_dir: Path) -> None:
    """eval_async() awaited in the caller's own loop writes a complete log."""
    [log] = await eval_async(_hello(2), model="mockllm/model", display="none")
    assert log.status == "success"
    assert read_eval_log_header(str(log.location)).results.completed_samples == 2  # type: ignore[union-attr]  # a finished log has results


async def test_errors_cross_the_thread_unchanged(log_dir: Path) -> None:
    """A usage error raised in the worker thread reaches the caller as itself."""
    with pytest.raises(UsageError, match="unknown option"):
        eval(_hello(), model="mockllm/model", no_such_option=1)


async def test_eval_retry_inside_running_loop(log_dir: Path, tmp_path: Path) -> None:
    """eval_retry() in a running loop re-runs only the failed samples of a file task."""
    source = tmp_path / "greet_task.py"
    source.write_text(TASK_FILE.format(fail={2}))
    [failed] = eval(str(source), model="mockllm/model", display="none", fail_on_error=False)
    assert failed.results is not None
    assert failed.results.errored_samples == 1
    source.write_text(TASK_FILE.format(fail=set()))
    [retried] = eval_retry(failed, display="none")
    assert retried.status == "success"
    assert retried.eval.retry_of == failed.eval.run_id
    assert retried.results is not None
    assert (retried.results.completed_samples, retried.results.errored_samples) == (4, 0)


# Interrupts. In a notebook, KeyboardInterrupt arrives in the thread waiting
# for the worker; these tests raise it there with _thread.interrupt_main().

BLOCKED = threading.Event()
RELEASE = threading.Event()


@solver
def block_after(quick: int, shielded: bool = False) -> Any:
    """Answer the first ``quick`` samples; block the rest (until cancelled or released)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if int(state.sample_id) < quick:
            return await generate(state)
        BLOCKED.set()
        with anyio.CancelScope(shield=shielded):
            # unshielded, a cancel abandons the waiting thread; the fixture releases it
            await anyio.to_thread.run_sync(RELEASE.wait, abandon_on_cancel=not shielded)
        return await generate(state)

    return solve


def _interrupt_when(event: threading.Event) -> threading.Thread:
    def interrupt() -> None:
        if event.wait(10):
            _thread.interrupt_main()

    helper = threading.Thread(target=interrupt, daemon=True)
    helper.start()
    return helper


@pytest.fixture
def blocking() -> Any:
    """Fresh events for one interrupt test; released afterwards so no thread is left."""
    BLOCKED.clear()
    RELEASE.clear()
    yield
    RELEASE.set()
    for thread in threading.enumerate():
        if thread.name == "evalkit-eval":
            thread.join(10)


async def test_interrupt_finishes_logs_as_cancelled(log_dir: Path, blocking: None) -> None:
    """A KeyboardInterrupt while eval() waits stops the run and returns a cancelled log."""
    task = Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(10)],
                solver=block_after(3), scorer=includes(), name="blocky")
    _interrupt_when(BLOCKED)
    [log] = eval(task, model="mockllm/model", display="none", max_samples=2)
    assert log.status == "cancelled"
    assert log.results is not None
    assert log.results.completed_samples == 3
    assert log.results.cancelled_samples >= 1
    footer = read_eval_log_header(str(log.location))
    assert footer.status == "cancelled"
    [again] = eval(_hello(), model="mockllm/model", display="none")
    assert again.status == "success"


async def test_second_interrupt_stops_waiting(log_dir: Path, blocking: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A second interrupt raises at once; the worker still writes the footer afterwards."""
    stopping = threading.Event()
    original = _sync.CancelRequest.stop_runs

    def stop_runs(self: _sync.CancelRequest) -> bool:
        stopped = original(self)
        stopping.set()
        return stopped

    monkeypatch.setattr(_sync.CancelRequest, "stop_runs", stop_runs)
    task = Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(4)],
                solver=block_after(1, shielded=True), scorer=includes(), name="stubborn")
    _interrupt_when(BLOCKED)
    _interrupt_when(stopping)
    with pytest.raises(KeyboardInterrupt):
        eval(task, model="mockllm/model", display="none", max_samples=1)
    # Taken before the release: a released worker may end before enumerate() sees it.
    workers = [t for t in threading.enumerate() if t.name == "evalkit-eval"]
    assert workers
    RELEASE.set()
    for worker in workers:
        worker.join(10)
    assert _only_log_status(log_dir) == "cancelled"


def _only_log_status(log_dir: Path) -> str:
    [path] = list(log_dir.glob("*.jsonl.zst"))
    return read_eval_log_header(path).status


async def test_interrupt_before_any_run_raises(blocking: None) -> None:
    """Interrupted while nothing is running, the worker's call ends in KeyboardInterrupt."""

    async def planning_forever() -> None:
        BLOCKED.set()
        await anyio.sleep_forever()

    _interrupt_when(BLOCKED)
    with pytest.raises(KeyboardInterrupt):
        _sync.run_sync(planning_forever)


SIGINT_SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, {here!r})
from evalkit import eval
from evalkit.log import read_eval_log_header
from test_sync import block_after, slow_task

async def main():
    # sync eval() inside asyncio.run(), whose own SIGINT handler would only
    # cancel the (blocked) main task
    [log] = eval(slow_task(), model="mockllm/model", display="plain", max_samples=2)
    [after] = eval(slow_task(quick=3, total=3), model="mockllm/model", display="none")
    print(json.dumps({{"status": log.status,
                      "footer": read_eval_log_header(log.location).status,
                      "completed": log.results.completed_samples,
                      "after": after.status}}))

asyncio.run(main())
"""


def slow_task(quick: int = 2, total: int = 20) -> Task:
    """A task whose samples after the first ``quick`` block until cancelled."""
    return Task(dataset=[Sample(id=i, input="hi", target="output") for i in range(total)],
                solver=block_after(quick), scorer=includes(), name="slow")


@pytest.mark.slow
def test_sigint_in_subprocess_with_running_loop(log_dir: Path, tmp_path: Path) -> None:
    """A real SIGINT to a process blocked in eval() inside asyncio.run: cancelled log, exit 0."""
    script = tmp_path / "interrupt_me.py"
    script.write_text(SIGINT_SCRIPT.format(here=str(Path(__file__).parent)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        _wait_for_log(log_dir, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"status": "cancelled", "footer": "cancelled", "completed": 2,
                      "after": "success"}
    assert "interrupted: stopping" in err
    assert f"resume with: {RETRY_FROM_SCRIPT} " in err  # a script calling eval()


def _wait_for_log(log_dir: Path, process: subprocess.Popen[str]) -> None:
    """Block until the run in ``process`` has written its first two samples (the file is
    the only sign another process gives; the bound is generous, for a loaded machine)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        if samples_in_live_log(log_dir) >= 2:
            return
        time.sleep(0.05)
    raise AssertionError("the subprocess wrote no samples within 60 s")


def test_run_sync_without_loop_uses_this_thread() -> None:
    """With no loop running, run_sync runs the coroutine in the calling thread."""
    seen: list[threading.Thread] = []

    async def which_thread() -> str:
        seen.append(threading.current_thread())
        return "done"

    assert _sync.run_sync(which_thread) == "done"
    assert seen == [threading.current_thread()]
