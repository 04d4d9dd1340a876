"""Throughput of the runner and the log with the mock model.

    python benchmarks/throughput.py [--sizes 1000,10000,100000] [--runs 3]
        [--sync-samples 10000] [--sync-runs 7] [--tmp DIR]

Each measurement runs in a fresh subprocess (so peak RSS is that run's own) and
the table shows medians over ``--runs``. Targets (2-core machine): >= 2,500
samples/s at 10k; peak RSS <= 150 MB at 100k and flat in N; header read <= 5 ms;
streaming read of a 10k log <= 0.5 s; one-sample `evalkit eval` <= 0.8 s;
a generate+includes sample <= 500 bytes in the log; the fdatasync policy
(every second and at the footer, in a thread) costs < 5% of throughput at 10k
samples.

The fdatasync comparison runs the policy on and off in pairs whose order
alternates (on/off, off/on, ...), so both see the same load, and prints each
one's median, the median of the pairs' own differences, and what the policy
did in the "on" runs: how many fdatasync calls, how long they took in all, and
how much of that the writer waited for (the sync at the footer; the timer's
run on their own thread). On a shared machine the runs' spread is far larger
than the policy's cost: read the waits, not only the difference of medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, time
from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.log import read_eval_log_header, read_eval_log_samples
from evalkit.scorer import includes

n, log_dir = int(sys.argv[1]), sys.argv[2]
if len(sys.argv) > 3 and sys.argv[3] == "no-sync":
    import evalkit.log._durable
    evalkit.log._durable.SYNC_INTERVAL = None
import threading
syncs = []  # (seconds in fdatasync, whether on the writer's own thread)
_fdatasync = os.fdatasync
def timed_fdatasync(fd):
    t = time.perf_counter()
    try:
        _fdatasync(fd)
    finally:
        syncs.append((time.perf_counter() - t, threading.current_thread() is threading.main_thread()))
os.fdatasync = timed_fdatasync
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
samples = [Sample(input=f"Say hello to visitor {i}", target="output") for i in range(n)]
task = Task(dataset=samples, scorer=includes())
dataset_rss = rss()
started = time.perf_counter()
[log] = eval(task, model="mockllm/model", log_dir=log_dir, display="none")
elapsed = time.perf_counter() - started
peak = rss()
header_times = []
for _ in range(20):
    t = time.perf_counter(); read_eval_log_header(log.location)
    header_times.append(time.perf_counter() - t)
t = time.perf_counter(); count = sum(1 for _ in read_eval_log_samples(log.location))
read_time = time.perf_counter() - t
assert count == n, (count, n)
print(json.dumps({
    "rate": n / elapsed, "peak_rss": peak, "dataset_rss": dataset_rss,
    "bytes": os.path.getsize(log.location) / n,
    "header_ms": sorted(header_times)[len(header_times) // 2] * 1000, "read_s": read_time,
    "syncs": len(syncs), "sync_s": sum(s for s, _ in syncs),
    "sync_writer_s": sum(s for s, writer in syncs if writer), "elapsed": elapsed,
}))
"""

ONE_SAMPLE_TASK = """
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes

@task
def one():
    return Task(dataset=[Sample(input="Say hello", target="output")], scorer=includes())
"""


TMP: str | None = None
"""Where the runs' logs go (``--tmp``); None: the system's temporary directory."""


def measure(n: int, runs: int) -> dict[str, float]:
    results = [_child(n) for _ in range(runs)]
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def _child(n: int, *flags: str) -> dict[str, float]:
    """One run in a fresh process, its log in a new directory under ``TMP`` (where
    /tmp is a tmpfs, pass ``--tmp`` a disk: fdatasync would cost nothing there)."""
    with tempfile.TemporaryDirectory(dir=TMP) as log_dir:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), log_dir, *flags],
                             capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def sync_cost(n: int, runs: int) -> dict[str, list[dict[str, float]]]:
    """``runs`` runs each with the fdatasync policy on and off, in pairs whose order
    alternates (on/off, off/on, ...) so a change of load hits both alike."""
    results: dict[str, list[dict[str, float]]] = {"on": [], "off": []}
    for i in range(runs):
        for policy in ("on", "off") if i % 2 == 0 else ("off", "on"):
            results[policy].append(_child(n, *(["no-sync"] if policy == "off" else [])))
    return results


def print_sync_cost(n: int, runs: int) -> None:
    load_before = os.getloadavg()[0]
    results = sync_cost(n, runs)
    load_after = os.getloadavg()[0]
    on = [r["rate"] for r in results["on"]]
    off = [r["rate"] for r in results["off"]]
    print(f"\nfdatasync policy at {n:,} samples, {runs} runs each, interleaved "
          f"(load {load_before:.1f} before, {load_after:.1f} after):")
    print(f"{'policy':>6} | {'median samples/s':>16} | runs (samples/s)")
    print("-" * 60)
    for name, rates in (("on", on), ("off", off)):
        print(f"{name:>6} | {statistics.median(rates):>16.0f} | "
              + " ".join(f"{rate:.0f}" for rate in rates))
    cost = (statistics.median(off) - statistics.median(on)) / statistics.median(off) * 100
    paired = statistics.median((b - a) / b * 100 for a, b in zip(on, off, strict=True))
    print(f"cost: {cost:+.1f}% (difference of medians), {paired:+.1f}% (median of the "
          f"{runs} pairs' differences); target < 5%: {'ok' if cost < 5 else 'MISSED'}")
    synced = results["on"]
    per_run = statistics.median(r["syncs"] for r in synced)
    total_ms = statistics.median(r["sync_s"] for r in synced) * 1000
    writer_ms = statistics.median(r["sync_writer_s"] for r in synced) * 1000
    share = statistics.median(r["sync_writer_s"] / r["elapsed"] for r in synced) * 100
    print(f"what the policy did per run (medians): {per_run:.0f} fdatasync, {total_ms:.1f} ms "
          f"in them; the writer waited {writer_ms:.1f} ms of it (the footer's sync), "
          f"{share:.2f}% of the run")


def one_sample_wall(runs: int) -> float:
    times = []
    with tempfile.TemporaryDirectory() as work:
        Path(work, "one.py").write_text(ONE_SAMPLE_TASK)
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "evalkit", "eval", "one.py", "--model",
                            "mockllm/model", "--display", "none", "--log-dir", "logs"],
                           cwd=work, capture_output=True, check=True)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sync-samples", type=int, default=10_000,
                        help="samples for the fdatasync on/off comparison (0: skip it)")
    parser.add_argument("--sync-runs", type=int, default=7)
    parser.add_argument("--tmp", help="directory for the logs (on a disk, not a tmpfs)")
    args = parser.parse_args()
    global TMP
    TMP = args.tmp
    sizes = [int(size) for size in args.sizes.split(",") if size]  # "": only the sync table
    if sizes:
        print(f"{'N':>7} | {'samples/s':>9} | {'peak RSS MB':>11} | {'dataset MB':>10} | "
              f"{'bytes/sample':>12} | {'header ms':>9} | {'full read s':>11}")
        print("-" * 89)
    for n in sizes:
        m = measure(n, args.runs)
        print(f"{n:>7} | {m['rate']:>9.0f} | {m['peak_rss']:>11.0f} | {m['dataset_rss']:>10.0f} | "
              f"{m['bytes']:>12.0f} | {m['header_ms']:>9.2f} | {m['read_s']:>11.3f}")
    if args.sync_samples:
        print_sync_cost(args.sync_samples, args.sync_runs)
    print(f"\n`evalkit eval` of one sample, wall time (median of {max(args.runs, 5)}): "
          f"{one_sample_wall(max(args.runs, 5)):.3f} s")
    print("(dataset MB: RSS after building the in-memory dataset, before the eval; the "
          "runner's own memory is peak minus this)")


if __name__ == "__main__":
    main()
