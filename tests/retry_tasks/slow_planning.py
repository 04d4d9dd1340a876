"""A task whose construction (part of planning an eval or a retry) takes long.

Environment variables steer it, so a subprocess and its retry see the same code:

- ``PLANNING_MARKER``: the construction numbered ``PLANNING_BLOCK_CALL`` (default 1;
  calls are counted in ``<marker>.calls``) touches this file, then goes on building
  a large dataset for ``PLANNING_SECONDS`` (default 20) before it returns: a signal
  sent once the file exists arrives in the middle of planning;
- ``PLANNING_FAIL_IDS``: comma-separated ids whose solver always raises;
- ``PLANNING_SIGNAL_IN_FINALIZER``: a signal name (``SIGINT``): once planning blocks,
  the process sends itself that signal from inside a finalizer, where Python drops
  any exception raised (as when garbage collection runs a weakref callback just as
  a real signal arrives);
- ``PLANNING_WRAP_INTERRUPT``: set, the interrupt that lands in the blocked
  construction comes out as another exception, as when it lands inside a C
  extension's import (pydantic_core, built with PyO3, raises a PanicException).
"""

import os
import signal
import time
from pathlib import Path

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import Generate, Solver, TaskState, generate, solver


@solver
def failing_generate() -> Solver:
    model_call = generate()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if str(state.sample_id) in os.environ.get("PLANNING_FAIL_IDS", "").split(","):
            raise RuntimeError(f"deterministic failure of sample {state.sample_id}")
        return await model_call(state, generate)

    return solve


class _SignalsWhenCollected:
    def __init__(self, signame: str) -> None:
        self.signum = getattr(signal, signame)

    def __del__(self) -> None:
        signal.raise_signal(self.signum)  # its handler runs here, inside the finalizer


def _samples(n: int) -> list[Sample]:
    samples = [Sample(id=i, input=f"question {i}", target="output") for i in range(n)]
    marker = os.environ.get("PLANNING_MARKER")
    if not marker:
        return samples
    calls_file = Path(marker + ".calls")
    calls = int(calls_file.read_text()) + 1 if calls_file.exists() else 1
    calls_file.write_text(str(calls))
    if calls != int(os.environ.get("PLANNING_BLOCK_CALL", "1")):
        return samples
    Path(marker).touch()
    signame = os.environ.get("PLANNING_SIGNAL_IN_FINALIZER")
    if signame:
        _SignalsWhenCollected(signame)  # collected at once: __del__ runs now
    if os.environ.get("PLANNING_WRAP_INTERRUPT"):
        try:
            _block()
        except KeyboardInterrupt:
            raise _Panic("failed to import the datetime C API") from None
    _block()
    return samples


class _Panic(BaseException):
    """Like PyO3's PanicException: not an Exception, not a KeyboardInterrupt."""


def _block() -> None:
    deadline = time.monotonic() + float(os.environ.get("PLANNING_SECONDS", "20"))
    large: list[Sample] = []
    while time.monotonic() < deadline:  # a dataset too large to finish building
        large.extend(Sample(id=i, input=f"question {i}", target="output")
                     for i in range(len(large), len(large) + 1000))
        if len(large) > 200_000:
            large.clear()  # keep memory bounded: only the time matters here


@task
def slow_planning(n: int = 10) -> Task:
    return Task(dataset=_samples(n), solver=failing_generate())
