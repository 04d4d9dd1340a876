"""Throughput of the runner and the log with the mock model.

    python benchmarks/throughput.py [--sizes 1000,10000,100000] [--runs 3]

Each measurement runs in a fresh subprocess (so peak RSS is that run's own) and
the table shows medians over ``--runs``. Targets (2-core machine): >= 2,500
samples/s at 10k; peak RSS <= 150 MB at 100k and flat in N; header read <= 5 ms;
streaming read of a 10k log <= 0.5 s; one-sample `evalkit eval` <= 0.8 s;
a generate+includes sample <= 500 bytes in the log.
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


def measure(n: int, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as log_dir:
            out = subprocess.run([sys.executable, "-c", CHILD, str(n), log_dir],
                                 capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


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
    args = parser.parse_args()
    print(f"{'N':>7} | {'samples/s':>9} | {'peak RSS MB':>11} | {'dataset MB':>10} | "
          f"{'bytes/sample':>12} | {'header ms':>9} | {'full read s':>11}")
    print("-" * 89)
    for n in (int(size) for size in args.sizes.split(",")):
        m = measure(n, args.runs)
        print(f"{n:>7} | {m['rate']:>9.0f} | {m['peak_rss']:>11.0f} | {m['dataset_rss']:>10.0f} | "
              f"{m['bytes']:>12.0f} | {m['header_ms']:>9.2f} | {m['read_s']:>11.3f}")
    print(f"\n`evalkit eval` of one sample, wall time (median of {max(args.runs, 5)}): "
          f"{one_sample_wall(max(args.runs, 5)):.3f} s")
    print("(dataset MB: RSS after building the in-memory dataset, before the eval; the "
          "runner's own memory is peak minus this)")


if __name__ == "__main__":
    main()
