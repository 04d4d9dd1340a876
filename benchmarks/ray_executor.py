"""Local runner vs ``--executor ray`` on one machine.

    python benchmarks/ray_executor.py [--cpu-samples 2000] [--burn-ms 20]
        [--overhead-samples 500] [--runs 3] [--cpus 2]

Two measurements, medians over ``--runs`` (one Ray instance, started once with
``--cpus`` CPUs, its start-up not counted):

- a CPU-bound scorer (each sample's scorer burns ``--burn-ms`` of CPU in Python):
  the local runner uses one core, Ray one per worker, so with 2 free cores Ray
  should approach 2x;
- the Ray path's per-sample overhead with the mock model (no scorer work):
  (Ray seconds - local seconds) / samples.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

import ray

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.scorer import Score, Scorer, Target, accuracy, scorer
from evalkit.solver import TaskState


@scorer(metrics=[accuracy()])
def burning(ms: float) -> Scorer:
    """Spends ``ms`` of CPU in Python, then scores 1."""
    async def score(state: TaskState, target: Target) -> Score:
        end = time.process_time() + ms / 1000
        while time.process_time() < end:  # CPU, not sleep: the point is the cores
            pass
        return Score(value=1)

    return score


def _task(n: int, burn_ms: float) -> Task:
    samples = [Sample(input=f"question {i}", target="output") for i in range(n)]
    return Task(dataset=samples, scorer=burning(burn_ms) if burn_ms else [])


def _seconds(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _timed_eval(n: int, burn_ms: float, executor: str, max_samples: int) -> float:
    with tempfile.TemporaryDirectory() as log_dir:
        def run() -> None:
            (log,) = eval(_task(n, burn_ms), model="mockllm/model", log_dir=log_dir,
                          display="none", executor=executor, max_samples=max_samples)
            assert log.status == "success", log.error
        return _seconds(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu-samples", type=int, default=2000)
    parser.add_argument("--burn-ms", type=float, default=20.0)
    parser.add_argument("--overhead-samples", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    rows = []
    for label, n, burn in (("cpu-bound scorer", args.cpu_samples, args.burn_ms),
                           ("mock model only", args.overhead_samples, 0.0)):
        medians = {}
        for executor in ("local", "ray"):
            # Ray: a few samples per worker in flight keep every worker busy.
            in_flight = 10 if executor == "local" else 4 * args.cpus
            medians[executor] = statistics.median(
                _timed_eval(n, burn, executor, in_flight) for _ in range(args.runs))
        rows.append((label, n, medians["local"], medians["ray"]))
    ray.shutdown()
    print(f"{'workload':<18} {'samples':>7} {'local s':>8} {'ray s':>8} {'speed-up':>9} "
          f"{'ray overhead ms/sample':>23}")
    for label, n, local, remote in rows:
        overhead = (remote - local) / n * 1000
        print(f"{label:<18} {n:>7} {local:>8.2f} {remote:>8.2f} {local / remote:>8.2f}x "
              f"{overhead:>23.2f}")


if __name__ == "__main__":
    main()
