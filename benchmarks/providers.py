"""Throughput of an HTTP provider against a local server with a fixed reply delay.

    python benchmarks/providers.py [--delay 0.1] [--connections 50] [--samples 2000] [--runs 3]

The server (evalkit.testing's ProviderServer) runs in its own process on
127.0.0.1, so it does not compete with the client for the GIL. The ideal rate
is connections / delay (500 samples/s for 50 connections and 100 ms); the
target is >= 90% of it. Medians over --runs. The timing covers the whole eval():
header, connection set-up, every sample, footer.
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
started = time.perf_counter()
[log] = eval(task, model=f"{provider}/bench", model_base_url=base_url, log_dir=log_dir,
             max_connections=connections, display="none")
elapsed = time.perf_counter() - started
assert log.results.completed_samples == n, log.results
print(f"RATE {n / elapsed}")
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


def measure(provider: str, port: int, n: int, connections: int) -> float:
    base_url = f"http://127.0.0.1:{port}" + ("/v1" if provider == "openai" else "")
    with tempfile.TemporaryDirectory() as log_dir:
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, provider, base_url, str(n), str(connections), log_dir],
            capture_output=True, text=True, check=True,
            env={**os.environ, "OPENAI_API_KEY": "bench", "ANTHROPIC_API_KEY": "bench"})
    return float(re.findall(r"RATE ([\d.]+)", out.stdout)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ideal = args.connections / args.delay
    server, port = start_server(args.delay)
    try:
        print(f"{'provider':>9} | {'samples':>7} | {'delay s':>7} | {'connections':>11} | "
              f"{'samples/s':>9} | {'ideal':>5} | {'of ideal':>8}")
        print("-" * 76)
        for provider in ("openai", "anthropic"):
            rates = [measure(provider, port, args.samples, args.connections)
                     for _ in range(args.runs)]
            rate = statistics.median(rates)
            print(f"{provider:>9} | {args.samples:>7} | {args.delay:>7} | "
                  f"{args.connections:>11} | {rate:>9.0f} | {ideal:>5.0f} | {rate / ideal:>8.0%}")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
