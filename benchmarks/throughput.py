"""Throughput of the runner and the log with the mock model.

    python benchmarks/throughput.py [--sizes 1000,10000,100000] [--runs 3]
        [--sync-samples 10000] [--sync-runs 7] [--tmp DIR]

Each measurement runs in a fresh subprocess (so peak RSS is that run's own) and
the table shows medians over ``--runs``. Targets (2-core machine): >= 2,500
samples/s at 10k; peak RSS <= 150 MB at 100k and flat in N; header read <= 5 ms;
streaming read of a 10k log <= 0.5 s; one-sample `evalkit eval` <= 0.8 s;
a generate+includes sample <= 500 bytes in the log; the fdatasync policy
(every second and at the footer, in a thread) costs < 5% of throughput at 10k
samples (policy on vs off, alternated run by run so both see the same load).
"""

from __future__ import annotations

import argparse
import json
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


def sync_cost(n: int, runs: int) -> tuple[float, float]:
    """Median samples/s with the fdatasync policy on and off, runs alternated."""
    on, off = [], []
    for _ in range(runs):
        on.append(_child(n)["rate"])
        off.append(_child(n, "no-sync")["rate"])
    return statistics.median(on), statistics.median(off)


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
    print(f"{'N':>7} | {'samples/s':>9} | {'peak RSS MB':>11} | {'dataset MB':>10} | "
          f"{'bytes/sample':>12} | {'header ms':>9} | {'full read s':>11}")
    print("-" * 89)
    for n in (int(size) for size in args.sizes.split(",")):
        m = measure(n, args.runs)
        print(f"{n:>7} | {m['rate']:>9.0f} | {m['peak_rss']:>11.0f} | {m['dataset_rss']:>10.0f} | "
              f"{m['bytes']:>12.0f} | {m['header_ms']:>9.2f} | {m['read_s']:>11.3f}")
    if args.sync_samples:
        on, off = sync_cost(args.sync_samples, args.sync_runs)
        cost = (off - on) / off * 100
        print(f"\nfdatasync policy at {args.sync_samples:,} samples (median of "
              f"{args.sync_runs} each): on {on:.0f} samples/s, off {off:.0f} samples/s, "
              f"cost {cost:+.1f}% (target < 5%): {'ok' if cost < 5 else 'MISSED'}")
    print(f"\n`evalkit eval` of one sample, wall time (median of {max(args.runs, 5)}): "
          f"{one_sample_wall(max(args.runs, 5)):.3f} s")
    print("(dataset MB: RSS after building the in-memory dataset, before the eval; the "
          "runner's own memory is peak minus this)")


if __name__ == "__main__":
    main()
