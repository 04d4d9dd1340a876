"""HTTP clients alone (no evalkit runner) against the same local server: evalkit's transport vs others.

    python benchmarks/transports.py [--requests 2000] [--runs 3] [--clients raw,raw+cpu,evalkit,httpx]

Each client sends --requests POSTs through N connections, one worker per
connection, to evalkit.testing's ProviderServer running in its own process
and answering after a fixed delay. Every measurement is a fresh subprocess;
the clients take turns within each run (A, B, C, A, B, C, ...), so a change
in the machine's load hits them alike, and the table shows medians over
--runs, with the load average before and after. The ideal rate is
connections / delay. Scenarios:

- keep-alive, 50 connections, 100 ms; keep-alive, 200 connections, 500 ms;
- close: 50 connections, 100 ms, the server closing the connection after
  every reply (HTTP/1.0 style, listen backlog 128), so every request connects.

Clients:

- raw asyncio: hand-written HTTP/1.1 on asyncio streams, the ceiling;
- raw + CPU: the same, burning --control-cpu ms of CPU per request (0.25 by
  default, about what aiohttp spends over it): a control that shows what
  that much CPU alone costs on this machine at this load;
- evalkit: ``AiohttpTransport``, what the providers use (aiohttp underneath);
- httpx: a plain ``httpx.AsyncClient`` with max_connections = N (sent a
  tenth of --requests: it is an order of magnitude slower, and its rate is
  as clear from fewer).

Latency is per request, as the worker sees it (the server's delay included).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from providers import start_server

CLIENT = r"""
import asyncio, json, sys, time

kind, port, total, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
close_each, burn = sys.argv[5] == "close", float(sys.argv[6]) / 1000
PATH = "/v1/chat/completions"
URL = f"http://127.0.0.1:{port}{PATH}"
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "hi"}]}).encode()
HEADERS = {"content-type": "application/json", "authorization": "Bearer bench"}


def client():
    if kind == "evalkit":
        from evalkit.model._providers._aiohttp import AiohttpTransport
        from evalkit.model._providers._transport import HttpRequest
        transport = AiohttpTransport(connections)
        request = HttpRequest(URL, HEADERS, BODY)
        async def send():
            return (await transport.send(request)).text
        return send
    if kind == "httpx":
        import httpx
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=connections,
                                                     max_keepalive_connections=connections))
        async def send():
            return (await http.post(URL, headers=HEADERS, content=BODY)).text
        return send
    raise SystemExit(f"unknown client {kind}")


HEAD = (f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json"
        f"\r\nauthorization: Bearer bench\r\ncontent-length: {len(BODY)}\r\n\r\n").encode()


def burn_cpu():
    end = time.thread_time() + burn
    while time.thread_time() < end:
        pass


async def raw_exchange(reader, writer):
    writer.write(HEAD + BODY)
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines
                  if line.lower().startswith(b"content-length"))
    json.loads(await reader.readexactly(length))


async def raw_worker(queue, latencies):
    reader = writer = None
    while queue:
        queue.pop()
        started = time.perf_counter()
        if burn:
            burn_cpu()
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await raw_exchange(reader, writer)
        if close_each:
            writer.close()
            reader = writer = None
        latencies.append(time.perf_counter() - started)
    if writer is not None:
        writer.close()


send = None if kind.startswith("raw") else client()  # imports and set-up kept out of the timing


async def main(latencies):
    queue = list(range(total))
    if kind.startswith("raw"):
        await asyncio.gather(*(raw_worker(queue, latencies) for _ in range(connections)))
        return
    async def worker():
        while queue:
            queue.pop()
            started = time.perf_counter()
            json.loads(await send())
            latencies.append(time.perf_counter() - started)
    await asyncio.gather(*(worker() for _ in range(connections)))


latencies = []
started, cpu = time.perf_counter(), time.process_time()
asyncio.run(main(latencies))
elapsed = time.perf_counter() - started
latencies.sort()
p50, p90 = (latencies[int(len(latencies) * q)] * 1000 for q in (0.5, 0.9))
print(f"RESULT {total / elapsed} {(time.process_time() - cpu) / total * 1000} {p50} {p90}")
"""

CLIENTS = {"raw": "raw asyncio", "raw+cpu": "raw + CPU", "evalkit": "evalkit (aiohttp)",
           "httpx": "httpx"}
SCENARIOS = [("keep-alive", 50, 0.1), ("keep-alive", 200, 0.5), ("close", 50, 0.1)]
Result = tuple[float, float, float, float]
"""requests/s, CPU ms per request, p50 and p90 latency in ms."""


def measure(kind: str, port: int, total: int, connections: int, mode: str,
            control_cpu: float) -> Result:
    burn = control_cpu if kind == "raw+cpu" else 0.0
    out = subprocess.run([sys.executable, "-c", CLIENT, kind, str(port), str(total),
                          str(connections), mode, str(burn)],
                         capture_output=True, text=True, check=True)
    rate, cpu_ms, p50, p90 = map(float, out.stdout.split("RESULT ")[-1].split())
    return rate, cpu_ms, p50, p90


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help=f"comma-separated, of {', '.join(CLIENTS)}")
    parser.add_argument("--control-cpu", type=float, default=0.25,
                        help="ms of CPU the raw + CPU client burns per request")
    args = parser.parse_args()
    kinds = args.clients.split(",")
    print(f"load average before: {load()}")
    print(f"{'server':>10} | {'conns':>5} | {'delay':>5} | {'client':>17} | {'requests/s':>10} | "
          f"{'of ideal':>8} | {'CPU ms/req':>10} | {'p50 ms':>6} | {'p90 ms':>6}")
    print("-" * 102)
    for mode, connections, delay in SCENARIOS:
        ideal = connections / delay
        extra = ["--close-each", "--backlog", "128"] if mode == "close" else []
        server, port = start_server(delay, extra)
        results: dict[str, list[Result]] = {kind: [] for kind in kinds}
        try:
            for _ in range(args.runs):
                for kind in kinds:
                    total = args.requests // 10 if kind == "httpx" else args.requests
                    results[kind].append(measure(kind, port, total, connections, mode,
                                                 args.control_cpu))
        finally:
            server.kill()
        for kind in kinds:
            rate, cpu_ms, p50, p90 = (statistics.median(column)
                                      for column in zip(*results[kind], strict=True))
            label = f"raw + {args.control_cpu:g} ms CPU" if kind == "raw+cpu" else CLIENTS[kind]
            print(f"{mode:>10} | {connections:>5} | {delay:>5} | {label:>17} | {rate:>10.0f} | "
                  f"{rate / ideal:>8.1%} | {cpu_ms:>10.2f} | {p50:>6.1f} | {p90:>6.1f}",
                  flush=True)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
