"""Reading the samples of a big log: the lazy ``EvalLog.samples`` against a full read.

Usage: python benchmarks/lazy_samples.py [--samples 20000] [--errors 2000] [--repeat 5]

Runs the mock model once over ``--samples`` samples (``--errors`` of them fail in the
solver) with ``eval()``, then times, over ``--repeat`` runs each, and measures the
peak of Python allocations (tracemalloc, a separate run) of:

- ``len(log.samples)``: from the log's index, no sample decoded;
- ``log.samples[-1]``: streams to the last sample, decodes only it;
- ``for s in log.samples``: every sample, one at a time;
- ``read_eval_log(path).samples``: every sample, all held (the eager way);
- the end-of-run error lines (``error_lines``): parses only lines holding an error.

and prints a table of medians. The lazy reads should hold well under a megabyte
whatever the size of the log; the full read grows with it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit import Task, eval
from evalkit._eval._error_summary import error_lines
from evalkit.dataset import Sample
from evalkit.log import EvalLog, read_eval_log
from evalkit.solver import Generate, TaskState, solver


@solver
def fail_every(step: int) -> Any:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if step and int(state.sample_id or 0) % step == 0:  # type: ignore[call-overload]  # ids are ints here
            raise ValueError(f"sample {state.sample_id} is malformed")
        return await generate(state)

    return solve


def make_log(directory: Path, samples: int, errors: int) -> EvalLog:
    step = samples // errors if errors else 0
    task = Task(dataset=[Sample(id=n, input=f"question {n}: what is {n} + {n}?", target=str(2 * n))
                         for n in range(1, samples + 1)],
                solver=fail_every(step), fail_on_error=False, name="bench")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        [log] = eval(task, model="mockllm/model", log_dir=str(directory), display="none")
    return log


def measure(action: Callable[[], object], repeat: int) -> tuple[float, int]:
    """Median seconds over ``repeat`` runs, and the peak bytes of one traced run."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    try:
        action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return statistics.median(times), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--errors", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log = make_log(Path(tmp), args.samples, args.errors)
        samples, path = log.samples, str(log.location)
        assert samples is not None
        size = Path(path).stat().st_size
        print(f"{args.samples} samples, {args.errors} errored; log file {size / 1e6:.1f} MB")
        cases: dict[str, Callable[[], object]] = {
            "len(log.samples)": lambda: len(samples),
            "log.samples[-1]": lambda: samples[-1],
            "for s in log.samples": lambda: sum(1 for _ in samples),
            "read_eval_log(path).samples": lambda: read_eval_log(path).samples,
            "error_lines(path)": lambda: error_lines(path),
        }
        print(f"{'read':<30} {'median s':>10} {'peak MB':>10}")
        for name, action in cases.items():
            seconds, peak = measure(action, args.repeat)
            print(f"{name:<30} {seconds:>10.4f} {peak / 1e6:>10.2f}")


if __name__ == "__main__":
    main()
