"""HTTP clients alone (no evalkit runner) against the same local server: why evalkit has its own.

    python benchmarks/transports.py [--delay 0.1] [--connections 50] [--requests 3000] [--runs 3]

Each client sends --requests POSTs through --connections keep-alive
connections, one worker per connection, to evalkit.testing's ProviderServer
running in its own process and answering after --delay seconds. Every run is
a fresh subprocess; medians over --runs. The ideal rate is connections / delay.

- raw asyncio: hand-written HTTP/1.1 on asyncio streams, the ceiling;
- evalkit: ``evalkit.model._providers._pool.ConnectionPool``, what providers use;
- httpcore: ``httpcore.AsyncConnectionPool`` (pools of at most 16 connections);
- httpx: ``httpx.AsyncClient`` (pools of at most 16 connections).

httpx and httpcore are split into pools of at most 16, as evalkit used to,
because one large httpcore pool is slower still (encode/httpx#3215).
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
PATH = "/v1/chat/completions"
URL = f"http://127.0.0.1:{port}{PATH}"
BODY = json.dumps({"model": "bench", "messages": [{"role": "user", "content": "hi"}]}).encode()
HEADERS = {"content-type": "application/json", "authorization": "Bearer bench"}


def shards(make):
    count = -(-connections // 16)
    return [make(connections // count + (index < connections % count)) for index in range(count)]


def client():
    if kind == "evalkit":
        from evalkit.model._providers._pool import ConnectionPool
        pool = ConnectionPool(connections)
        async def send():
            return (await pool.post(URL, headers=HEADERS, content=BODY)).text
        return send
    if kind == "httpcore":
        import httpcore
        pools = shards(lambda size: httpcore.AsyncConnectionPool(max_connections=size))
        async def send(worker):
            reply = await pools[worker % len(pools)].request(
                "POST", URL, headers=list(HEADERS.items()), content=BODY)
            return reply.content.decode()
        return send
    if kind == "httpx":
        import httpx
        clients = shards(lambda size: httpx.AsyncClient(limits=httpx.Limits(
            max_connections=size, max_keepalive_connections=size)))
        async def send(worker):
            return (await clients[worker % len(clients)].post(
                URL, headers=HEADERS, content=BODY)).text
        return send
    raise SystemExit(f"unknown client {kind}")


async def raw_worker(queue):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json"
            f"\r\ncontent-length: {len(BODY)}\r\n\r\n").encode()
    while queue:
        queue.pop()
        writer.write(head + BODY)
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = next(int(line.split(b":")[1]) for line in lines
                      if line.lower().startswith(b"content-length"))
        json.loads(await reader.readexactly(length))
    writer.close()


send = None if kind == "raw" else client()  # imports and set-up kept out of the timing


async def main():
    queue = list(range(total))
    if kind == "raw":
        await asyncio.gather(*(raw_worker(queue) for _ in range(connections)))
        return
    async def worker(index):
        while queue:
            queue.pop()
            json.loads(await (send() if kind == "evalkit" else send(index)))
    await asyncio.gather(*(worker(index) for index in range(connections)))


started, cpu = time.perf_counter(), time.process_time()
asyncio.run(main())
elapsed = time.perf_counter() - started
print(f"RESULT {total / elapsed} {(time.process_time() - cpu) / total * 1000}")
"""

CLIENTS = {"raw": "raw asyncio", "evalkit": "evalkit", "httpcore": "httpcore", "httpx": "httpx"}


def measure(kind: str, port: int, total: int, connections: int) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", CLIENT, kind, str(port), str(total),
                          str(connections)], capture_output=True, text=True, check=True)
    rate, cpu_ms = out.stdout.split("RESULT ")[-1].split()
    return float(rate), float(cpu_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.1)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ideal = args.connections / args.delay
    server, port = start_server(args.delay)
    try:
        print(f"{'client':>11} | {'requests/s':>10} | {'of ideal':>8} | {'CPU ms/request':>14}")
        print("-" * 54)
        for kind, label in CLIENTS.items():
            results = [measure(kind, port, args.requests, args.connections)
                       for _ in range(args.runs)]
            rate = statistics.median(rate for rate, _ in results)
            cpu_ms = statistics.median(cpu for _, cpu in results)
            print(f"{label:>11} | {rate:>10.0f} | {rate / ideal:>8.0%} | {cpu_ms:>14.2f}")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
