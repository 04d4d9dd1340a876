"""A model's connections: a few small httpx pools instead of one large one.

httpcore's pool does work proportional to its connections times its waiting
requests on every request (encode/httpx#3215): one pool of 200 connections
spends about 20 ms of CPU per request, which caps a local vLLM eval at a few
dozen requests a second. The same connections split into pools of at most
``SHARD_SIZE`` keep that cost flat. Each request goes to the pool with the
most free connections, so no request waits while another pool has room
(``Model`` never has more requests in flight than ``max_connections``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

SHARD_SIZE = 16
CONNECT_TIMEOUT = 30.0
READ_TIMEOUT = 600.0
"""A backstop only: ``--attempt-timeout`` bounds an attempt. Reasoning models
can think for minutes before the first byte, so this is generous."""

USER_AGENT = "evalkit"


@dataclass
class _Shard:
    client: httpx.AsyncClient
    capacity: int
    in_flight: int = 0


def shard_sizes(max_connections: int) -> list[int]:
    """``max_connections`` split into as few pools of at most SHARD_SIZE as possible, evenly."""
    count = max(1, -(-max_connections // SHARD_SIZE))
    base, extra = divmod(max(max_connections, 1), count)
    return [base + (1 if index < extra else 0) for index in range(count)]


class ConnectionPool:
    """``max_connections`` pooled keep-alive connections, made in the running event loop.

    httpx clients are bound to the loop they were made in, so they are made
    lazily and made again if a later call runs in another loop (a second
    ``eval()`` from a notebook).
    """

    def __init__(self, max_connections: int) -> None:
        self.max_connections = max_connections
        self._shards: list[_Shard] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"ConnectionPool(max_connections={self.max_connections})"

    @property
    def is_open(self) -> bool:
        return bool(self._shards)

    async def post(self, url: str, *, headers: dict[str, str], content: bytes) -> httpx.Response:
        shard = self._least_busy()
        shard.in_flight += 1
        try:
            return await shard.client.post(url, headers=headers, content=content)
        finally:
            shard.in_flight -= 1

    async def aclose(self) -> None:
        if self._loop is _running_loop():
            for shard in self._shards:
                await shard.client.aclose()
        self._shards = []
        self._loop = None

    def _least_busy(self) -> _Shard:
        loop = _running_loop()
        if not self._shards or self._loop is not loop:
            self._shards = [_Shard(_make_client(size), size)
                            for size in shard_sizes(self.max_connections)]
            self._loop = loop
        return max(self._shards, key=lambda shard: shard.capacity - shard.in_flight)


def _make_client(size: int) -> httpx.AsyncClient:
    import httpx  # here, not at module level: `import evalkit.model` must stay light

    return httpx.AsyncClient(
        limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        headers={"user-agent": USER_AGENT},
    )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop; None under trio (one set of clients is right there)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
