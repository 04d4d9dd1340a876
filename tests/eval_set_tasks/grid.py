"""Two small tasks for the eval-set tests; every solver start leaves a trace on disk.

Environment variables steer them, so a subprocess and its re-run see the same code:

- ``SET_TEST_STARTS``: each solver start appends ``task|model|id|epoch``;
- ``SET_TEST_HOLD_FROM`` and ``SET_TEST_HOLD_FILE``: samples with an id at or above
  the number wait (after recording their start) until the file exists, so a test
  can kill the run with some samples done and others in flight.
"""

import os

import anyio

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes
from evalkit.solver import Generate, Solver, TaskState, generate, solver


@solver
def traced_generate(name: str) -> Solver:
    model_call = generate()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        starts = os.environ.get("SET_TEST_STARTS")
        if starts:
            with open(starts, "a") as handle:  # noqa: ASYNC230  # tiny write; a test task
                handle.write(f"{name}|{state.model}|{state.sample_id}|{state.epoch}\n")
        hold_from = os.environ.get("SET_TEST_HOLD_FROM")
        hold_file = os.environ.get("SET_TEST_HOLD_FILE", "")
        if hold_from and int(state.sample_id) >= int(hold_from):
            # Polled: another process makes the file; a stat is cheap in a test task.
            while not os.path.exists(hold_file):  # noqa: ASYNC110, ASYNC240
                await anyio.sleep(0.01)
        return await model_call(state, generate)

    return solve


def _samples(name: str, n: int) -> list[Sample]:
    return [Sample(id=i, input=f"{name} question {i}", target=f"{name} question {i}")
            for i in range(n)]


@task
def alpha(n: int = 6) -> Task:
    return Task(dataset=_samples("alpha", n), solver=traced_generate("alpha"),
                scorer=includes())


@task
def beta(n: int = 6) -> Task:
    return Task(dataset=_samples("beta", n), solver=traced_generate("beta"),
                scorer=includes())
