"""Throughput of an HTTP provider against a local server with a fixed reply delay.

    python benchmarks/providers.py [--delay 0.1] [--connections 50] [--samples 2000] [--runs 3]

The server (evalkit.testing's ProviderServer) runs in its own process on
127.0.0.1, so it does not compete with the client for the GIL. The ideal rate
is connections / delay (500 samples/s for 50 connections and 100 ms); the
target is >= 90% of it. Each run is a fresh process per provider, the
providers taking turns (openai, anthropic, openai, ...); the table shows
medians over --runs, with the load average before and after.

"whole" times the whole eval(): making the model (which imports aiohttp),
header, connection set-up, every sample, footer. "set-up" is the part of it
before the first sample started; "samples" is the rate from the first
sample's start to the last one's end, read from the log afterwards.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

CLIENT = r"""
import sys, time
from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.scorer import includes

provider, base_url, n, connections, log_dir = sys.argv[1:6]
n, connections = int(n), int(connections)
task = Task(dataset=[Sample(input=f"question {i}", target=f"question {i}") for i in range(n)],
            scorer=includes())
started, wall = time.perf_counter(), time.time()
[log] = eval(task, model=f"{provider}/bench", model_base_url=base_url, log_dir=log_dir,
             max_connections=connections, display="none")
elapsed = time.perf_counter() - started
assert log.results.completed_samples == n, log.results
starts, ends = zip(*((sample.started_at, sample.started_at + sample.total_time)
                     for sample in log.samples))
print(f"RATE {n / elapsed} {min(starts) - wall} {n / (max(ends) - min(starts))}")
"""


def start_server(delay: float,
                 extra: list[str] | None = None) -> tuple[subprocess.Popen[str], int]:
    """ProviderServer in its own process (``extra``: more of its command-line options)."""
    server = subprocess.Popen(
        [sys.executable, "-u", "-m", "evalkit.testing._provider_server", "--delay", str(delay),
         *(extra or [])],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = re.search(r":(\d+)", server.stdout.readline())
        if found:
            return server, int(found.group(1))
    server.kill()
    raise RuntimeError("the provider server did not start")


def measure(provider: str, port: int, n: int, connections: int) -> tuple[float, float, float]:
    """Samples/s over the whole eval(), seconds before the first sample, samples/s of the samples."""
    base_url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    with tempfile.TemporaryDirectory() as log_dir:
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, provider, base_url, str(n), str(connections), log_dir],
            capture_output=True, text=True, check=True,
            env={**os.environ, "OPENAI_API_KEY": "bench", "ANTHROPIC_API_KEY": "bench"})
    rate, setup, samples_rate = map(float, out.stdout.split("RATE ")[-1].split())
    return rate, setup, samples_rate


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ideal = args.connections / args.delay
    providers = ("openai", "anthropic")
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in providers}
    print(f"load average before: {load()}")
    server, port = start_server(args.delay)
    try:
        for _ in range(args.runs):
            for provider in providers:
                results[provider].append(measure(provider, port, args.samples, args.connections))
    finally:
        server.kill()
    print(f"{'provider':>9} | {'samples':>7} | {'delay s':>7} | {'conns':>5} | {'ideal':>5} | "
          f"{'whole/s':>7} | {'of ideal':>8} | {'set-up s':>8} | {'samples/s':>9} | {'of ideal':>8}")
    print("-" * 97)
    for provider in providers:
        rate, setup, samples_rate = (statistics.median(column)
                                     for column in zip(*results[provider], strict=True))
        print(f"{provider:>9} | {args.samples:>7} | {args.delay:>7} | {args.connections:>5} | "
              f"{ideal:>5.0f} | {rate:>7.0f} | {rate / ideal:>8.1%} | {setup:>8.2f} | "
              f"{samples_rate:>9.0f} | {samples_rate / ideal:>8.1%}")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
