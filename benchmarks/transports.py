"""HTTP clients alone (no evalkit runner) against the same local server: evalkit's transport vs others.

    python benchmarks/transports.py [--requests 3000] [--runs 3] [--clients raw,evalkit,httpx]

Each client sends --requests POSTs through N connections, one worker per
connection, to evalkit.testing's ProviderServer running in its own process
and answering after a fixed delay. Every run is a fresh subprocess; the table
shows medians over --runs. The ideal rate is connections / delay. Scenarios:

- keep-alive, 50 connections, 100 ms; keep-alive, 200 connections, 500 ms;
- close: 50 connections, 100 ms, the server closing the connection after
  every reply (HTTP/1.0 style, listen backlog 128), so every request connects.

Clients:

- raw asyncio: hand-written HTTP/1.1 on asyncio streams, the ceiling;
- evalkit: ``AiohttpTransport``, what the providers use (aiohttp underneath);
- httpx: a plain ``httpx.AsyncClient`` with max_connections = N (sent a
  fifth of --requests: it is an order of magnitude slower, and its rate is
  as clear from fewer).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from providers import start_server

CLIENT = r"""
import asyncio, json, sys, time

kind, port, total, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
close_each = sys.argv[5] == "close"
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
        f"\r\ncontent-length: {len(BODY)}\r\n\r\n").encode()


async def raw_exchange(reader, writer):
    writer.write(HEAD + BODY)
    lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines
                  if line.lower().startswith(b"content-length"))
    json.loads(await reader.readexactly(length))


async def raw_worker(queue):
    reader = writer = None
    while queue:
        queue.pop()
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        await raw_exchange(reader, writer)
        if close_each:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


send = None if kind == "raw" else client()  # imports and set-up kept out of the timing


async def main():
    queue = list(range(total))
    if kind == "raw":
        await asyncio.gather(*(raw_worker(queue) for _ in range(connections)))
        return
    async def worker():
        while queue:
            queue.pop()
            json.loads(await send())
    await asyncio.gather(*(worker() for _ in range(connections)))


started, cpu = time.perf_counter(), time.process_time()
asyncio.run(main())
elapsed = time.perf_counter() - started
print(f"RESULT {total / elapsed} {(time.process_time() - cpu) / total * 1000}")
"""

CLIENTS = {"raw": "raw asyncio", "evalkit": "evalkit (aiohttp)", "httpx": "httpx"}
SCENARIOS = [("keep-alive", 50, 0.1), ("keep-alive", 200, 0.5), ("close", 50, 0.1)]


def measure(kind: str, port: int, total: int, connections: int,
            mode: str) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CLIENT, kind, str(port), str(total),
                          str(connections), mode], capture_output=True, text=True, check=True)
    rate, cpu_ms = out.stdout.split("RESULT ")[-1].split()
    return float(rate), float(cpu_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help=f"comma-separated, of {', '.join(CLIENTS)}")
    args = parser.parse_args()
    print(f"{'server':>10} | {'conns':>5} | {'delay':>5} | {'client':>17} | {'requests/s':>10} | "
          f"{'of ideal':>8} | {'CPU ms/request':>14}")
    print("-" * 89)
    for mode, connections, delay in SCENARIOS:
        ideal = connections / delay
        extra = ["--close-each", "--backlog", "128"] if mode == "close" else []
        server, port = start_server(delay, extra)
        try:
            for kind in args.clients.split(","):
                total = args.requests // 5 if kind == "httpx" else args.requests
                results = [measure(kind, port, total, connections, mode)
                           for _ in range(args.runs)]
                rate = statistics.median(rate for rate, _ in results)
                cpu_ms = statistics.median(cpu for _, cpu in results)
                print(f"{mode:>10} | {connections:>5} | {delay:>5} | {CLIENTS[kind]:>17} | "
                      f"{rate:>10.0f} | {rate / ideal:>8.1%} | {cpu_ms:>14.2f}", flush=True)
        finally:
            server.kill()


if __name__ == "__main__":
    main()
