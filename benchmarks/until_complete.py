"""``eval-retry --until-complete`` with 4 always-failing samples of 40: rounds and time.

    python benchmarks/until_complete.py [--runs 5] [--max-attempts 3]

For ``fail_on_error`` True and False: a first eval on mockllm (4 of 40 samples
always raise), then ``eval_retry(until_complete=True)`` with the default
``--backoff 30``. Prints, as medians over the runs, the wall-clock seconds of
the until-complete part, its rounds (new log files) and the waits it asked
for. Target: at most ``--max-attempts`` rounds, no waits, a few seconds
(it was 12 rounds, 14 log files and 18.5 minutes).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from evalkit import eval, eval_retry
from evalkit._eval import _retry

TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import Generate, Solver, TaskState, generate, solver

FAILING = {3, 11, 22, 37}


@solver
def sometimes_failing() -> Solver:
    model_call = generate()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await model_call(state, generate)
        if state.sample_id in FAILING:
            raise RuntimeError(f"sample {state.sample_id} always fails")
        return state

    return solve


@task
def forty():
    return Task(dataset=[Sample(id=i, input=f"q {i}", target="x") for i in range(40)],
                solver=sometimes_failing())
'''


def one_run(directory: Path, fail_on_error: bool, max_attempts: int) -> tuple[float, int, int]:
    """Seconds, rounds and waits of one until-complete retry."""
    task_file = directory / "forty.py"
    task_file.write_text(TASK_FILE)
    log_dir = directory / "logs"
    [first] = eval(f"{task_file}@forty", model="mockllm/model", fail_on_error=fail_on_error,
                   display="none", log_dir=str(log_dir))
    waits: list[float] = []
    real_sleep = _retry._sleep_unless_interrupted

    async def counted_sleep(seconds: float) -> bool:
        waits.append(seconds)
        return await real_sleep(seconds)

    _retry._sleep_unless_interrupted = counted_sleep  # type: ignore[assignment]  # counting probe
    try:
        started = time.perf_counter()
        eval_retry(str(first.location), display="none", until_complete=True,
                   max_attempts=max_attempts)
        seconds = time.perf_counter() - started
    finally:
        _retry._sleep_unless_interrupted = real_sleep  # type: ignore[assignment]
    return seconds, len(list(log_dir.glob("*.jsonl.zst"))) - 1, len(waits)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-attempts", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for fail_on_error in (True, False):
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as tmp, open(os.devnull, "w") as quiet, \
                    contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
                results.append(one_run(Path(tmp), fail_on_error, args.max_attempts))
        seconds, rounds, waits = (statistics.median(column)
                                  for column in zip(*results, strict=True))
        rows.append((str(fail_on_error), seconds, rounds, waits))
    print(f"{'fail_on_error':<14} {'seconds':>8} {'rounds':>7} {'waits':>6}   "
          f"(medians of {args.runs}; target: rounds <= {args.max_attempts}, waits 0)")
    for name, seconds, rounds, waits in rows:
        print(f"{name:<14} {seconds:>8.2f} {rounds:>7g} {waits:>6g}")
    return 0 if all(r[2] <= args.max_attempts and r[3] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
