"""A model's keep-alive connections to its provider, made in the running event loop.

``Model`` never has more than ``max_connections`` calls in flight, so the pool
needs no queue of its own: a call takes the most recently used idle
connection to its origin, or opens one, and gives it back after the reply.
At most ``max_connections`` idle connections are kept per origin, each for
``KEEPALIVE_EXPIRY`` seconds, as httpx does.

Connections belong to the event loop they were made in, so a pool used from
a new loop (a second ``eval()`` from a notebook) starts afresh.

What ``httpx.AsyncClient`` gave and is kept: TLS verified as httpx verifies
it (``_ssl_context``), and proxies from the environment (``_proxy``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import urllib.parse
import zlib
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..._util._secrets import redact_url
from ...errors import ModelTransientError, UsageError
from ._connection import (
    HttpConnection,
    HttpReply,
    ProxyRefused,
    Timeouts,
    open_connection,
    open_tunnel,
)
from ._proxy import Proxy

if TYPE_CHECKING:
    import ssl

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept, as httpx does by default."""
TIMEOUTS = Timeouts(connect=30.0, read=600.0, write=600.0)
"""A backstop only: ``--attempt-timeout`` bounds an attempt. Reasoning models
can think for minutes before the first byte, so reads get ten."""
USER_AGENT = "evalkit"


@dataclass(frozen=True)
class Origin:
    """Where a URL's requests go: scheme, host and port."""

    scheme: str
    host: str
    port: int

    @property
    def authority(self) -> str:
        """The Host header: ``host``, with ``:port`` unless it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host  # IPv6
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@functools.lru_cache(maxsize=64)
def split_url(url: str) -> tuple[Origin, str]:
    """``url``'s origin and request target (path and query)."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"cannot send a request to {redact_url(url)!r}: it needs http:// or https:// "
                         "and a host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Origin(parts.scheme, parts.hostname, port), target


class ConnectionPool:
    """Keep-alive connections for one model; ``max_connections`` bounds those kept idle."""

    def __init__(self, max_connections: int, proxy: Proxy | None = None) -> None:
        self.max_connections = max(max_connections, 1)
        self.proxy = proxy
        self._idle: defaultdict[Origin, list[HttpConnection]] = defaultdict(list)
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"ConnectionPool(max_connections={self.max_connections}, proxy={self.proxy!r})"

    @property
    def idle_connections(self) -> int:
        return sum(len(idle) for idle in self._idle.values())

    async def post(self, url: str, *, headers: dict[str, str], content: bytes) -> HttpReply:
        """The reply to a POST of ``content``; a ``TransportError`` if none arrived."""
        origin, target = split_url(url)
        # No Accept-Encoding would mean any coding is acceptable (RFC 9110), brotli too.
        request_headers = [("host", origin.authority), ("user-agent", USER_AGENT),
                           ("accept-encoding", "identity"), *headers.items()]
        if self.proxy is not None and origin.scheme == "http":
            target = url  # a plain-HTTP proxy is sent the whole URL
            request_headers += self.proxy.headers
        connection = self._take_idle(origin) or await self._connect(origin)
        reply = await connection.request("POST", target, request_headers, content, TIMEOUTS)
        # Not into a pool closed while this call was in flight: nothing would close it.
        if (connection.reusable and self._loop is asyncio.get_running_loop()
                and len(self._idle[origin]) < self.max_connections):
            self._idle[origin].append(connection)
        else:
            connection.close()
        if reply.status == 407 and self.proxy is not None and origin.scheme == "http":
            # Proxy Authentication Required: the proxy itself answered, not the provider.
            raise ProxyRefused(f"the proxy {self.proxy!r} answered HTTP 407: it wants "
                               "credentials (http://user:password@host:port)")
        return _decoded(reply)

    async def aclose(self) -> None:
        """Close the idle connections (calls in flight close theirs when they end)."""
        if self._loop is _running_loop():
            for idle in self._idle.values():
                for connection in idle:
                    connection.close()
        self._idle.clear()
        self._loop = None

    def _take_idle(self, origin: Origin) -> HttpConnection | None:
        loop = _running_loop()
        if self._loop is not loop:
            self._idle.clear()  # made in a loop that has ended; nothing to close them with
            self._loop = loop
        idle = self._idle[origin]
        while idle:
            connection = idle.pop()
            fresh = loop.time() - connection.last_used < KEEPALIVE_EXPIRY
            if fresh and connection.still_open():
                return connection
            connection.close()
        return None

    async def _connect(self, origin: Origin) -> HttpConnection:
        tls = _ssl_context() if origin.scheme == "https" else None
        if self.proxy is None:
            return await open_connection(origin.host, origin.port, tls=tls,
                                         timeout=TIMEOUTS.connect)
        if tls is None:
            return await open_connection(self.proxy.host, self.proxy.port, tls=None,
                                         timeout=TIMEOUTS.connect)
        return await open_tunnel(self.proxy.host, self.proxy.port, origin.host, origin.port,
                                 proxy_headers=self.proxy.headers, tls=tls, timeouts=TIMEOUTS)


def _decoded(reply: HttpReply) -> HttpReply:
    """``reply`` without its Content-Encoding (evalkit asks for none; a server may compress anyway)."""
    encoding = reply.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return reply
    if encoding not in ("gzip", "deflate"):
        raise ModelTransientError(f"the reply has Content-Encoding {encoding!r}, which evalkit "
                                  "cannot decode (it asked for an uncompressed reply)")
    try:
        # 32 + MAX_WBITS reads a gzip or zlib header; "deflate" is sometimes sent raw.
        body = zlib.decompress(reply.body, 32 + zlib.MAX_WBITS)
    except zlib.error as exc:
        try:
            if encoding != "deflate":
                raise
            body = zlib.decompress(reply.body, -zlib.MAX_WBITS)
        except zlib.error:
            raise ModelTransientError(f"the reply could not be decoded ({encoding}): {exc}") from exc
    return dataclasses.replace(reply, body=body)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One context for every connection: loading the CA bundle costs ~20 ms each time."""
    import httpx  # httpx's TLS defaults (certifi, or SSL_CERT_FILE / SSL_CERT_DIR)

    return httpx.create_ssl_context()


def _running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise UsageError("evalkit's HTTP providers run on asyncio; call eval_async() from an "
                         "asyncio event loop (not trio)") from None
