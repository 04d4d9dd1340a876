"""Local runner vs ``--executor ray`` on one machine.

    flock /work/bench.lock python benchmarks/ray_executor.py [--cpu-samples 2000]
        [--burn-ms 20] [--overhead-samples 1000] [--runs 2] [--cpus 2]

Two workloads, each run locally and on Ray in turn (local, ray, local, ray, ...),
medians over ``--runs``; one Ray instance on this machine (loopback only), started
once with ``--cpus`` CPUs and warmed up first, its start-up not counted:

- a CPU-bound scorer (each sample's scorer burns ``--burn-ms`` of its thread's
  CPU): the local runner is one event loop on one core, Ray runs a sample per
  worker on every core, so with 2 idle cores Ray approaches 2x;
- the mock model alone (no scorer work): the Ray path's per-sample overhead, as
  wall time and as CPU time (the driver's, and that of Ray's processes: workers,
  raylet, GCS), which is what a busy machine pays.

``cores`` is CPU seconds over wall seconds (all of the run's processes): about 1
for the local runner, up to ``--cpus`` for Ray. ``idle bound`` is the speed-up
those CPU seconds allow on ``--cpus`` otherwise idle cores (local CPU on one core
against Ray's, the driver's included, over all of them): what a quiet machine
shows, when other work shares the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

# Ray swaps 127.0.0.1 for the machine's network address unless clusters are off:
# this benchmark talks over loopback only (read when ray is imported).
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import ray  # after the environment above, which it reads on import

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.scorer import Score, Scorer, Target, accuracy, scorer
from evalkit.solver import TaskState

TICKS = os.sysconf("SC_CLK_TCK")


@scorer(metrics=[accuracy()])
def burning(ms: float) -> Scorer:
    """Spends ``ms`` of its thread's CPU in Python, then scores 1."""
    async def score(state: TaskState, target: Target) -> Score:
        end = time.thread_time() + ms / 1000  # this thread's: others' CPU does not count
        while time.thread_time() < end:  # CPU, not sleep: the point is the cores
            pass
        return Score(value=1)

    return score


def _task(n: int, burn_ms: float) -> Task:
    samples = [Sample(input=f"question {i}", target="output") for i in range(n)]
    return Task(dataset=samples, scorer=burning(burn_ms) if burn_ms else [])


@dataclass
class Timing:
    wall: float
    driver_cpu: float
    ray_cpu: float
    """CPU of Ray's processes (this process's descendants: GCS, raylet, workers)."""

    @property
    def cores(self) -> float:
        return (self.driver_cpu + self.ray_cpu) / self.wall


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _descendants_cpu() -> float:
    """utime + stime of every live descendant of this process (Ray's, here)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    ours, me = 0.0, os.getpid()
    for pid, seconds in cpu.items():
        ancestor = parents.get(pid)
        while ancestor and ancestor != me:
            ancestor = parents.get(ancestor)
        ours += seconds if ancestor == me else 0.0
    return ours


def _timed_eval(n: int, burn_ms: float, executor: str, max_samples: int) -> Timing:
    with tempfile.TemporaryDirectory() as log_dir:
        task = _task(n, burn_ms)
        own, ray_cpu, start = _own_cpu(), _descendants_cpu(), time.perf_counter()
        # eval's results table and log path
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            (log,) = eval(task, model="mockllm/model", log_dir=log_dir, display="none",
                          executor=executor, max_samples=max_samples)
        wall = time.perf_counter() - start
        timing = Timing(wall, _own_cpu() - own, _descendants_cpu() - ray_cpu)
        assert log.status == "success", log.error
    return timing


def _median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings),
                  statistics.median(t.driver_cpu for t in timings),
                  statistics.median(t.ray_cpu for t in timings))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu-samples", type=int, default=2000)
    parser.add_argument("--burn-ms", type=float, default=20.0)
    parser.add_argument("--overhead-samples", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    # Every worker started and the task's context built before anything is timed.
    _timed_eval(10 * args.cpus, 1.0, "ray", 2 * args.cpus)
    # Local: the default 10 in flight. Ray: a few per worker keep every worker busy.
    in_flight = {"local": 10, "ray": 4 * args.cpus}
    rows = []
    for label, n, burn in (("cpu-bound scorer", args.cpu_samples, args.burn_ms),
                           ("mock model only", args.overhead_samples, 0.0)):
        runs: dict[str, list[Timing]] = {"local": [], "ray": []}
        for _ in range(args.runs):
            for executor in ("local", "ray"):  # interleaved: load changes hit both
                runs[executor].append(_timed_eval(n, burn, executor, in_flight[executor]))
        rows.append((label, n, _median(runs["local"]), _median(runs["ray"])))
    ray.shutdown()
    _print(rows, args.cpus, os.getloadavg()[0])


def _print(rows: list[tuple[str, int, Timing, Timing]], cpus: int, load: float) -> None:
    print(f"{'workload':<17} {'samples':>7} {'local s':>8} {'ray s':>7} {'speed-up':>8} "
          f"{'idle bound':>10} {'cores local/ray':>15} {'wall ms/sample local/ray':>25} "
          f"{'ray CPU ms/sample driver+ray':>29}")
    for label, n, local, remote in rows:
        per = f"{local.wall / n * 1000:.2f} / {remote.wall / n * 1000:.2f}"
        cpu = f"{remote.driver_cpu / n * 1000:.2f} + {remote.ray_cpu / n * 1000:.2f}"
        # The speed-up if nothing else ran: local CPU on one core against Ray's CPU
        # (driver's included) spread over every core.
        bound = local.cores * local.wall / (remote.cores * remote.wall / max(cpus, 1))
        print(f"{label:<17} {n:>7} {local.wall:>8.2f} {remote.wall:>7.2f} "
              f"{local.wall / remote.wall:>7.2f}x {bound:>9.2f}x "
              f"{local.cores:>7.2f}/{remote.cores:<7.2f} {per:>25} {cpu:>29}")
    print(f"(medians; 1-minute load average at the end: {load:.2f})")


if __name__ == "__main__":
    main()
