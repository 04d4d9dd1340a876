"""Tasks for the retry and crash tests: every solver run leaves a trace on disk.

Environment variables steer them, so a subprocess and its retry see the same code:

- ``RETRY_TEST_SIDE_FILE``: each execution appends ``id:epoch`` (counts executions
  independently of the log);
- ``RETRY_TEST_FAIL_IDS``: comma-separated ids whose solver always raises;
- ``RETRY_TEST_FAIL_ONCE_DIR``: every sample fails on its first execution only;
- ``RETRY_TEST_SHIELD``: seconds each solver waits, deaf to cancellation (a slow
  cleanup: the first Ctrl-C cannot stop it quickly);
- ``RETRY_TEST_HOLD_FILE``: each solver waits (after recording its execution) until
  this file exists, so a test decides when the run may end.
"""

import os
from pathlib import Path

import anyio

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import Generate, Solver, TaskState, generate, solver


@solver
def counting_generate() -> Solver:
    model_call = generate()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await model_call(state, generate)
        side_file = os.environ.get("RETRY_TEST_SIDE_FILE")
        if side_file:
            with open(side_file, "a") as handle:  # noqa: ASYNC230  # tiny write; a test task
                handle.write(f"{state.sample_id}:{state.epoch}\n")
        hold_file = os.environ.get("RETRY_TEST_HOLD_FILE")
        # Polled: another process makes the file; a stat is cheap in a test task.
        while hold_file and not os.path.exists(hold_file):  # noqa: ASYNC110, ASYNC240
            await anyio.sleep(0.01)
        shield = float(os.environ.get("RETRY_TEST_SHIELD", "0"))
        if shield:
            with anyio.CancelScope(shield=True):
                await anyio.sleep(shield)
        if str(state.sample_id) in os.environ.get("RETRY_TEST_FAIL_IDS", "").split(","):
            raise RuntimeError(f"deterministic failure of sample {state.sample_id}")
        once_dir = os.environ.get("RETRY_TEST_FAIL_ONCE_DIR")
        if once_dir:
            marker = Path(once_dir) / f"{state.sample_id}-{state.epoch}"
            if not marker.exists():
                marker.touch()
                raise RuntimeError(f"first-attempt failure of sample {state.sample_id}")
        return state

    return solve


@task
def counting(n: int = 20, epochs: int = 1, prefix: str = "question") -> Task:
    return Task(
        dataset=[Sample(id=i, input=f"{prefix} {i}", target="output") for i in range(n)],
        solver=counting_generate(),
        epochs=epochs,
    )
