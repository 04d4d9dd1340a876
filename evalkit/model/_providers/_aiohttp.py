"""The default ``Transport``: aiohttp, one ``ClientSession`` per model and event loop.

Why aiohttp: on this project's benchmark (``benchmarks/transports.py``: 50
connections to a server answering in 100 ms) it keeps up with a raw asyncio
client, while ``httpx.AsyncClient`` spends milliseconds of CPU per request
under concurrency (encode/httpx#3215) and falls far behind. aiohttp does the
HTTP work (framing, chunked bodies, keep-alive, TLS, proxies and CONNECT
tunnels); this module sizes it, picks the proxy and CA bundle, and turns its
exceptions into the seam's ``TransportError`` types.

Two things aiohttp does not do by default are added here: a kept-alive
connection the server closed (or wrote to) while idle is never reused, so a
server's keep-alive timeout never costs a POST a retry (aiohttp only retries
idempotent methods); and the proxy comes from ``_proxy_env``, not
``trust_env``, which ignores ``NO_PROXY`` entries with a port and would read
``~/.netrc``.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import select
import socket
import ssl
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import certifi
import yarl

from ...errors import ModelTransientError, UsageError
from ._proxy_env import Proxy
from ._sse import decode_events
from ._transport import (
    CertificateRejected,
    ConnectFailed,
    ConnectionLost,
    HttpReply,
    HttpRequest,
    ProxyRefused,
    RequestNotSendable,
    ServerSentEvent,
    StreamingReply,
    TimedOut,
    Transport,
    TransportError,
)


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    """Longest wait for any one piece of the reply (or of a stream)."""


TIMEOUTS = Timeouts(connect=30.0, read=600.0)
"""A backstop only: ``--attempt-timeout`` bounds an attempt. Reasoning models
can think for minutes before the first byte, so reads get ten."""
KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept, as httpx does by default."""
USER_AGENT = "evalkit"
MAX_HEAD_SIZE = 100 * 1024
"""Longest reply header line read, as httpx allows (aiohttp's default is 8 KB)."""


class AiohttpTransport(Transport):
    """Keep-alive connections for one model: at most ``max_connections`` at once."""

    def __init__(self, max_connections: int, proxy: Proxy | None = None) -> None:
        self.max_connections = max(max_connections, 1)
        self.proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_flight: dict[aiohttp.ClientSession, int] = {}

    def __repr__(self) -> str:
        return f"AiohttpTransport(max_connections={self.max_connections}, proxy={self.proxy!r})"

    async def send(self, request: HttpRequest) -> HttpReply:
        # Written out rather than with ``async with`` blocks: this is on every call's path,
        # and the two context managers cost more CPU than the rest of this method.
        session = self._acquire_session()
        try:
            response = await self._post(session, request)
            try:
                body = await response.read()
            finally:  # as aiohttp's own ``async with session.post(...)`` ends
                response.release()
                await response.wait_for_close()
            headers = _lower(response.headers)
            self._check_proxy_reply(request, response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise _transport_error(exc, request) from exc
        finally:
            await self._release_session(session)
        return HttpReply(response.status, headers, _decoded(headers, body))

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[StreamingReply]:
        try:
            async with self._session_in_use() as session, self._post(session, request) as response:
                self._check_proxy_reply(request, response.status)
                yield _AiohttpStream(response, request)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _transport_error(exc, request) from exc

    async def aclose(self) -> None:
        """Close the connections, those of calls in flight as each call ends."""
        session, self._session = self._session, None
        if session is not None and self._loop is _running_loop() and not self._in_flight.get(
                session):
            await session.close()
        self._loop = None

    @asynccontextmanager
    async def _session_in_use(self) -> AsyncIterator[aiohttp.ClientSession]:
        """The session for a call, closed after the call if ``aclose`` came meanwhile."""
        session = self._acquire_session()
        try:
            yield session
        finally:
            await self._release_session(session)

    def _acquire_session(self) -> aiohttp.ClientSession:
        """The session for a call, counted in flight until ``_release_session``."""
        session = self._client()
        self._in_flight[session] = self._in_flight.get(session, 0) + 1
        return session

    async def _release_session(self, session: aiohttp.ClientSession) -> None:
        """A call on ``session`` has ended: close it if ``aclose`` came meanwhile."""
        self._in_flight[session] -= 1
        if not self._in_flight[session]:
            del self._in_flight[session]
            if session is not self._session:
                await session.close()

    def _post(self, session: aiohttp.ClientSession, request: HttpRequest) -> Any:
        """``session.request("POST", ...)``: awaited, the response; or an async context manager of it."""
        proxy = self.proxy
        headers = request.headers
        proxy_headers = None
        if proxy is not None and proxy.username is not None:
            headers = dict(headers)
            token = base64.b64encode(f"{proxy.username}:{proxy.password or ''}".encode())
            credentials = {"proxy-authorization": f"Basic {token.decode('ascii')}"}
            # An http:// request goes to the proxy itself; an https:// one only its CONNECT does.
            if request.url.startswith("http://"):
                headers.update(credentials)
            else:
                proxy_headers = credentials
        return session.request(
            "POST", _parsed_url(_without_userinfo(request.url) if "authorization" in headers
                                else request.url),
            data=request.body, headers=headers, proxy=proxy.url if proxy else None,
            proxy_headers=proxy_headers, allow_redirects=False,
            # The CA bundle is loaded only when TLS is spoken (it costs tens of ms).
            ssl=ssl_context() if request.url.startswith("https://") or (
                proxy is not None and proxy.url.startswith("https://")) else True)

    def _client(self) -> aiohttp.ClientSession:
        loop = _running_loop()
        if self._session is None or self._loop is not loop:
            if self._session is not None:
                # Made in a loop that has ended (a notebook's second eval()): nothing can close
                # its connections any more, so let them go.
                self._session.detach()
            self._loop = loop
            connector = _FreshConnector(limit=self.max_connections,
                                        keepalive_timeout=KEEPALIVE_EXPIRY)
            # No cookie jar: API calls carry their own credentials, and nothing a reply sets
            # should ride along on later calls (nor cost a jar lookup on each).
            self._session = aiohttp.ClientSession(
                connector=connector, trust_env=False, auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(), timeout=_client_timeout(TIMEOUTS),
                max_line_size=MAX_HEAD_SIZE, max_field_size=MAX_HEAD_SIZE,
                headers={"user-agent": USER_AGENT, "accept-encoding": "identity"})
        return self._session

    def _check_proxy_reply(self, request: HttpRequest, status: int) -> None:
        if status == 407 and self.proxy is not None and request.url.startswith("http://"):
            # Proxy Authentication Required: the proxy itself answered, not the provider.
            raise ProxyRefused(f"the proxy {self.proxy!r} answered HTTP 407: it wants "
                               "credentials (http://user:password@host:port)")


class _AiohttpStream(StreamingReply):
    def __init__(self, response: aiohttp.ClientResponse, request: HttpRequest) -> None:
        self.status = response.status
        self.headers = _lower(response.headers)
        self._response = response
        self._request = request

    async def read(self) -> bytes:
        try:
            return _decoded(self.headers, await self._response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _transport_error(exc, self._request) from exc

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        encoding = self.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":
            raise ModelTransientError(f"the event stream has Content-Encoding {encoding!r}; "
                                      "evalkit asked for an uncompressed one")
        try:
            async for event in decode_events(self._response.content.iter_any()):
                yield event
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _transport_error(exc, self._request) from exc


class _FreshConnector(aiohttp.TCPConnector):
    """Hands out an idle connection only if the server has not closed it or written to it.

    aiohttp checks its own view of the connection, which lags a close that
    arrived since the event loop last polled; this asks the socket too.
    """

    async def _get(self, key: Any, traces: Any) -> aiohttp.connector.Connection | None:
        while (connection := await super()._get(key, traces)) is not None:
            protocol = connection.protocol
            transport = connection.transport
            sock = transport.get_extra_info("socket") if transport is not None else None
            if protocol is not None and not protocol.should_close and (
                    sock is None or not _readable(sock)):
                return connection
            connection.close()
        return None


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data or end-of-stream waiting, without blocking."""
    if hasattr(select, "poll"):  # poll, unlike select, takes descriptors above 1024
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


def _transport_error(exc: BaseException, request: HttpRequest) -> TransportError:
    """The seam's error for an aiohttp failure (most specific classes first)."""
    origin = urllib.parse.urlsplit(_without_userinfo(request.url)).netloc
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return CertificateRejected(f"{origin}: {exc.certificate_error}")
    if isinstance(exc, aiohttp.ClientHttpProxyError):
        refusal = f"the proxy answered HTTP {exc.status} to CONNECT {_authority(request.url)}"
        if exc.status >= 500 or exc.status in (408, 429):
            return ConnectFailed(refusal)  # it could not reach the host, or is busy: retry
        return ProxyRefused(refusal)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TimedOut(f"connecting to {origin} took over {TIMEOUTS.connect:g} s")
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return TimedOut(f"waiting for the reply took over {TIMEOUTS.read:g} s")
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
        return TimedOut(f"the request to {origin} timed out")
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake, proxy
        return ConnectFailed(f"{origin}: {exc.os_error or exc}")
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ConnectionLost("the server closed the connection without replying")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ConnectionLost(f"the server broke HTTP/1.1: the reply was cut short ({exc})")
    if isinstance(exc, aiohttp.ClientResponseError):  # a status line or header aiohttp can't parse
        return ConnectionLost(f"the server broke HTTP/1.1: {exc.message}")
    if isinstance(exc, aiohttp.ClientError):
        return ConnectionLost(str(exc) or type(exc).__name__)
    # ValueError: aiohttp refuses to write a header with a line break (or a bad URL).
    return RequestNotSendable(str(exc))


def _without_userinfo(url: str) -> str:
    """``url`` without ``user:password@``: a request that carries its own key sends only that.

    (Without a key header, aiohttp sends the URL's credentials as Basic auth.)
    """
    parts = urllib.parse.urlsplit(url) if "@" in url else None
    if parts is None or "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


@functools.lru_cache(maxsize=64)
def _parsed_url(url: str) -> yarl.URL:
    """``url`` parsed once: a model posts to the same URL on every call."""
    return yarl.URL(url)


def _client_timeout(timeouts: Timeouts) -> aiohttp.ClientTimeout:
    """aiohttp's form of ``timeouts``, the session's default for every request."""
    return aiohttp.ClientTimeout(total=None, sock_connect=timeouts.connect,
                                 sock_read=timeouts.read)


def _authority(url: str) -> str:
    """``host:port`` of ``url``, as a CONNECT request names it."""
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}"


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _decoded(headers: Mapping[str, str], body: bytes) -> bytes:
    """``body`` without its Content-Encoding (evalkit asks for none; a server may compress anyway)."""
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ModelTransientError(f"the reply has Content-Encoding {encoding!r}, which evalkit "
                                  "cannot decode (it asked for an uncompressed reply)")
    try:
        # 32 + MAX_WBITS reads a gzip or zlib header; "deflate" is sometimes sent raw.
        return zlib.decompress(body, 32 + zlib.MAX_WBITS)
    except zlib.error as exc:
        try:
            if encoding != "deflate":
                raise
            return zlib.decompress(body, -zlib.MAX_WBITS)
        except zlib.error:
            raise ModelTransientError(f"the reply could not be decoded ({encoding}): {exc}") from exc


@functools.lru_cache(maxsize=1)
def ssl_context() -> ssl.SSLContext:
    """The CAs to trust: ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else certifi's and the system's.

    Cached: loading a CA bundle costs ~20 ms.
    """
    cafile, capath = os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR")
    if cafile or capath:
        return ssl.create_default_context(cafile=cafile or None, capath=capath or None)
    context = ssl.create_default_context(cafile=certifi.where())
    context.set_default_verify_paths()
    return context


def _running_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise UsageError("evalkit's HTTP providers run on asyncio; call eval_async() from an "
                         "asyncio event loop (not trio)") from None
