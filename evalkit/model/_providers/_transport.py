"""The seam between providers and HTTP: send one request, get a reply or a stream of events.

Providers speak only to ``Transport``. The default implementation is
``_aiohttp.AiohttpTransport``; tests inject ``evalkit.testing.MockTransport``
to answer requests in memory. A transport reports every failure before a
complete reply as one of the ``TransportError`` subclasses below, which
``_classify.TRANSPORT_TABLE`` maps (by type) to evalkit's errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

__all__ = [
    "CertificateRejected",
    "ConnectFailed",
    "ConnectionLost",
    "HttpReply",
    "HttpRequest",
    "ProxyRefused",
    "RequestNotSendable",
    "ServerSentEvent",
    "StreamingReply",
    "TimedOut",
    "Transport",
    "TransportError",
]


class TransportError(Exception):
    """A request that failed before a complete reply arrived."""


class ConnectFailed(TransportError):
    """No connection (refused, unreachable, DNS, TLS handshake)."""


class CertificateRejected(ConnectFailed):
    """The server's TLS certificate did not verify: retrying cannot help."""


class TimedOut(TransportError):
    """Connecting or waiting for the reply took too long."""


class ConnectionLost(TransportError):
    """The server closed the connection or broke the protocol mid-reply (or mid-stream)."""


class ProxyRefused(TransportError):
    """The proxy refused the request (wants credentials, or forbids the host)."""


class RequestNotSendable(TransportError):
    """The request itself is invalid HTTP (a header with a line break, say)."""


@dataclass(frozen=True)
class HttpRequest:
    """A POST of ``body`` to ``url`` with ``headers`` (names lower-case)."""

    url: str
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:
        # Headers carry the API key: never shown.
        return f"HttpRequest({self.url!r}, {len(self.body)} bytes)"


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP reply: status, headers (names lower-cased) and decoded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as text (provider APIs answer UTF-8 JSON)."""
        return self.body.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class ServerSentEvent:
    """One event of a ``text/event-stream`` reply: its ``event:`` name and ``data:`` text."""

    event: str
    data: str


class StreamingReply(ABC):
    """A reply whose body is read as it arrives."""

    status: int
    headers: Mapping[str, str]

    @abstractmethod
    async def read(self) -> bytes:
        """The whole body (for an error status, which is not a stream)."""

    @abstractmethod
    def events(self) -> AsyncIterator[ServerSentEvent]:
        """The body's server-sent events as they arrive; ``ConnectionLost`` if it is cut."""


class Transport(ABC):
    """Sends provider requests. Implementations must be safe for concurrent calls."""

    @abstractmethod
    async def send(self, request: HttpRequest) -> HttpReply:
        """The complete reply to ``request``; a ``TransportError`` if none arrived."""

    @abstractmethod
    def stream(self, request: HttpRequest) -> AbstractAsyncContextManager[StreamingReply]:
        """``request`` sent, its reply open for reading until the block ends."""

    async def aclose(self) -> None:
        """Close idle connections (a later request opens new ones)."""
