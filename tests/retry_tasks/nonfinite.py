"""A task whose scores include NaN, +inf and -inf, for the retry-metrics test.

``NONFINITE_FAIL_IDS`` (comma-separated ids) makes those samples' solver raise,
so a first run can be interrupted and a retry finish it.
"""

import os
import statistics
from collections.abc import Sequence

from evalkit import Epochs, Task, task
from evalkit.dataset import Sample, Target
from evalkit.scorer import Score, Scorer, mean, scorer, stderr
from evalkit.solver import Generate, Solver, TaskState, solver

NAN, INF = float("nan"), float("inf")

# Two epochs per sample: (epoch 1, epoch 2).
VALUES: dict[int, tuple[float, float]] = {
    0: (1.0, 0.0), 1: (NAN, 1.0), 2: (INF, 1.0), 3: (-INF, 0.5), 4: (NAN, NAN),
    5: (0.25, 0.75), 6: (0.0, NAN), 7: (2.0, 4.0),
}


def median(values: Sequence[float]) -> float:
    """A metric sensitive to which values are present (mean is just inf here)."""
    return float(statistics.median(values))


@scorer(metrics=[mean(), stderr(), median])
def table() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=VALUES[int(state.sample_id)][state.epoch - 1])

    return score


@solver
def fail_listed() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if str(state.sample_id) in os.environ.get("NONFINITE_FAIL_IDS", "").split(","):
            raise RuntimeError(f"planned failure of sample {state.sample_id}")
        return await generate(state)

    return solve


@task
def nonfinite(reducer: str = "median") -> Task:
    return Task(dataset=[Sample(id=i, input=f"q{i}", target="t") for i in VALUES],
                solver=fail_listed(), scorer=table(), epochs=Epochs(2, reducer),
                fail_on_error=False)
