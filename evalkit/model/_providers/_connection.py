"""One keep-alive HTTP/1.1 connection: h11 for the protocol, an asyncio protocol for the bytes.

Why not httpcore, the transport under httpx: on asyncio it goes through anyio,
whose locks and reads each yield to the event loop once even when nothing
blocks, three or four times per request. With 50 replies landing together
those yields queue behind each other and add 5-9 ms to every call. Against a
local server answering in 100 ms, 50 connections reached 91-94% of the ideal
rate through httpx or httpcore with no evalkit code at all, and 97-98% here
(``benchmarks/providers.py``; the raw-socket ceiling is the same 98%).

h11, the HTTP/1.1 engine httpcore itself uses, does all the protocol work:
framing, chunked bodies, keep-alive rules, header validation. This module
only moves bytes: a request is one ``write``, and a read returns buffered
data without yielding.

Failures are raised as the ``TransportError`` subclasses below, which
``_classify.TRANSPORT_TABLE`` maps to evalkit's errors.
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
from dataclasses import dataclass

import h11

__all__ = [
    "CertificateRejected",
    "ConnectFailed",
    "ConnectionLost",
    "HttpConnection",
    "HttpReply",
    "ProxyRefused",
    "RequestNotSendable",
    "TimedOut",
    "Timeouts",
    "TransportError",
    "open_connection",
    "open_tunnel",
]

class TransportError(Exception):
    """A request that failed before a complete reply arrived."""


class ConnectFailed(TransportError):
    """No connection (refused, unreachable, DNS, TLS handshake)."""


class CertificateRejected(ConnectFailed):
    """The server's TLS certificate did not verify: retrying cannot help."""


class TimedOut(TransportError):
    """Connecting, sending or waiting for the reply took too long."""


class ConnectionLost(TransportError):
    """The server closed the connection or broke the protocol mid-reply."""


class ProxyRefused(TransportError):
    """The proxy answered CONNECT with an error."""


class RequestNotSendable(TransportError):
    """The request itself is invalid HTTP (a header with a line break, say)."""


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP reply: status, headers (names lower-cased) and raw body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text (provider APIs answer UTF-8 JSON)."""
        return self.body.decode("utf-8", errors="replace")


MAX_HEAD_SIZE = 100 * 1024
"""Longest reply head (status line and headers) read, as httpcore allows. h11's
default, 16 KB, fails replies whose larger head arrives in more than one read."""


class _StreamProtocol(asyncio.Protocol):
    """Buffers what arrives on one connection and wakes the reader waiting for it.

    Reading is never paused: each reply is read to its end and its size is
    bounded by the server, so the buffer holds at most one reply.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.closed = False
        self.writing_paused = False
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake()

    async def wait(self, timeout: float, doing: str) -> None:
        """Until data, end of stream or room to write arrives; TimedOut after ``timeout``."""
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except TimeoutError:
            raise TimedOut(f"{doing} took over {timeout:g} s") from None
        finally:
            self._waiter = None
            timer.cancel()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


@dataclass(frozen=True)
class Timeouts:
    connect: float
    read: float
    """Longest wait for any one piece of the reply."""
    write: float


class HttpConnection:
    """A connection that sends one request at a time and can be reused after each reply."""

    def __init__(self, transport: asyncio.Transport, protocol: _StreamProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_SIZE)
        self.last_used = asyncio.get_running_loop().time()

    @property
    def reusable(self) -> bool:
        """Idle, open, and with nothing unread (unread bytes mean the server closed or erred)."""
        return (self._h11.our_state is h11.IDLE and not self._protocol.closed
                and not self._protocol.buffer and not self._h11.trailing_data[0]
                and not self._transport.is_closing())

    def still_open(self) -> bool:
        """Reusable, and the server has neither closed this idle connection nor written to it.

        Asks the socket itself, not only the protocol: a close that arrived
        since the event loop last polled has not reached the protocol yet.
        """
        if not self.reusable:
            return False
        sock = self._transport.get_extra_info("socket")
        return sock is None or not _readable(sock)

    def close(self) -> None:
        self._transport.close()

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
        timeouts: Timeouts,
    ) -> HttpReply:
        """Send the request and read its whole reply; the connection is closed if it can't be reused."""
        try:
            await self._write(self._encode(method, target, headers, body), timeouts.write)
            reply = await self._read_reply(timeouts.read)
        except BaseException:
            self.close()  # mid-exchange (failed or cancelled): the connection is unusable
            raise
        if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
            self._h11.start_next_cycle()
            self.last_used = asyncio.get_running_loop().time()
        else:
            self.close()  # "Connection: close", or HTTP/1.0
        return reply

    def _encode(self, method: str, target: str, headers: list[tuple[str, str]],
                body: bytes) -> bytes:
        framing = [("content-length", str(len(body)))] if body or method == "POST" else []
        try:
            return b"".join((
                self._h11.send(h11.Request(method=method, target=target,
                                           headers=[*headers, *framing])) or b"",
                (self._h11.send(h11.Data(data=body)) or b"") if body else b"",
                self._h11.send(h11.EndOfMessage()) or b"",
            ))
        except h11.LocalProtocolError as exc:
            raise RequestNotSendable(str(exc)) from exc

    async def _write(self, data: bytes, timeout: float) -> None:
        if self._protocol.closed or self._transport.is_closing():
            raise ConnectionLost("the connection was closed before the request was sent")
        self._transport.write(data)
        while self._protocol.writing_paused and not self._protocol.closed:
            await self._protocol.wait(timeout, "sending the request")

    async def _read_reply(self, timeout: float) -> HttpReply:
        status, headers, chunks = 0, {}, list[bytes]()
        while True:
            event = await self._next_event(timeout)
            if isinstance(event, h11.Response):
                status = event.status_code
                headers = {name.decode("latin-1"): value.decode("latin-1")
                           for name, value in event.headers}  # h11 lower-cases names
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif event is h11.PAUSED or isinstance(event, h11.EndOfMessage):
                return HttpReply(status, headers, b"".join(chunks))  # PAUSED: a CONNECT tunnel
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionLost("the server closed the connection mid-reply")
            # InformationalResponse (100 Continue) needs nothing.

    async def _next_event(self, timeout: float) -> object:
        connection, protocol = self._h11, self._protocol
        while True:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as exc:
                raise ConnectionLost(f"the server broke HTTP/1.1: {exc}") from exc
            if event is not h11.NEED_DATA:
                return event
            if not protocol.buffer and not protocol.closed:
                await protocol.wait(timeout, "waiting for the reply")
            data = bytes(protocol.buffer)
            protocol.buffer.clear()
            partial = connection.trailing_data[0]  # bytes that are not yet a status line
            if not data and not partial and connection.their_state is h11.SEND_RESPONSE:
                raise ConnectionLost("the server closed the connection without replying")
            connection.receive_data(data)  # b"" is end of stream


async def open_connection(
    host: str, port: int, *, tls: ssl.SSLContext | None, timeout: float
) -> HttpConnection:
    """A new connection to ``host:port`` (TLS when ``tls`` is given)."""
    loop = asyncio.get_running_loop()
    try:
        # asyncio sets TCP_NODELAY on the sockets it connects.
        transport, protocol = await asyncio.wait_for(
            loop.create_connection(_StreamProtocol, host, port, ssl=tls,
                                   server_hostname=host if tls else None),
            timeout,
        )
    except (TimeoutError, asyncio.TimeoutError) as exc:  # distinct classes before 3.11
        raise TimedOut(f"connecting to {host}:{port} took over {timeout:g} s") from exc
    except ssl.SSLCertVerificationError as exc:
        raise CertificateRejected(f"{host}:{port}: {exc}") from exc
    except (OSError, ssl.SSLError) as exc:
        raise ConnectFailed(f"{host}:{port}: {exc}") from exc
    return HttpConnection(transport, protocol)


def _readable(sock: socket.socket) -> bool:
    """Whether ``sock`` has data or end-of-stream waiting, without blocking."""
    if hasattr(select, "poll"):  # poll, unlike select, takes descriptors above 1024
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([sock], [], [], 0)[0])


async def start_tls(
    connection: HttpConnection, host: str, tls: ssl.SSLContext, timeout: float
) -> HttpConnection:
    """``connection`` (a tunnel through a proxy) upgraded to TLS with ``host``."""
    loop = asyncio.get_running_loop()
    try:
        transport = await asyncio.wait_for(
            loop.start_tls(connection._transport, connection._protocol, tls,
                           server_hostname=host),
            timeout,
        )
    except (TimeoutError, asyncio.TimeoutError) as exc:
        connection.close()
        raise TimedOut(f"the TLS handshake with {host} took over {timeout:g} s") from exc
    except ssl.SSLCertVerificationError as exc:
        connection.close()
        raise CertificateRejected(f"TLS with {host}: {exc}") from exc
    except (OSError, ssl.SSLError) as exc:
        connection.close()
        raise ConnectFailed(f"TLS with {host}: {exc}") from exc
    if transport is None:
        raise ConnectFailed(f"the connection closed during the TLS handshake with {host}")
    return HttpConnection(transport, connection._protocol)


async def open_tunnel(
    proxy_host: str, proxy_port: int, host: str, port: int, *,
    proxy_headers: list[tuple[str, str]], tls: ssl.SSLContext, timeouts: Timeouts,
) -> HttpConnection:
    """A TLS connection to ``host:port`` through an HTTP proxy's CONNECT tunnel."""
    connection = await open_connection(proxy_host, proxy_port, tls=None,
                                       timeout=timeouts.connect)
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"  # IPv6 in brackets
    try:
        await connection._write(
            connection._encode("CONNECT", authority, [("host", authority), *proxy_headers], b""),
            timeouts.write)
        reply = await connection._read_reply(timeouts.connect)
    except BaseException:
        connection.close()
        raise
    if not 200 <= reply.status < 300:
        connection.close()
        refusal = f"the proxy answered HTTP {reply.status} to CONNECT {authority}"
        if reply.status >= 500 or reply.status in (408, 429):
            raise ConnectFailed(refusal)  # it could not reach the host, or is busy: retry
        raise ProxyRefused(refusal)
    return await start_tls(connection, host, tls, timeouts.connect)
