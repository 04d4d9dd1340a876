"""Tiny threaded servers on 127.0.0.1 for the transport tests.

``RawServer`` answers each request with bytes a test scripts (chunked,
HTTP/1.0, compressed, garbage, or nothing) and can drop its idle
connections on cue; ``HttpProxy`` forwards absolute-form requests and
tunnels CONNECT, recording what it was asked. Both optionally speak TLS
(``RawServer``) and record the client's port, as ``ProviderServer`` does.
The scripted replies below answer OpenAI requests with the last user
message upper-cased, framed in the way each test needs.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import urllib.parse
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, BinaryIO, TypeVar

from evalkit.model import GenerateConfig, Model, get_model
from evalkit.model._providers._aiohttp import AiohttpTransport
from evalkit.model._providers.openai import OpenAIAPI
from evalkit.testing import ProviderServer
from evalkit.testing._provider_server import last_user_text, openai_reply

OPENAI_KEY = "sk-evalkit-SECRET-0penai-d3adb33f"  # provider_fixtures.fake_keys
_Server = TypeVar("_Server", bound="_ThreadedServer")


@dataclass(frozen=True)
class Received:
    """A request as it arrived: method, target as sent, lower-cased headers, body."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    client_port: int

    @property
    def json_prompt(self) -> str:
        """The content of the last message of an OpenAI request body."""
        return str(json.loads(self.body)["messages"][-1]["content"])


@dataclass(frozen=True)
class Reply:
    """What to send back: ``pieces`` written one by one (none: close without replying)."""

    pieces: tuple[bytes, ...] = ()
    close: bool = False
    """Close the connection after the reply (an HTTP/1.0 or close-delimited reply)."""


def http_reply(body: bytes, *headers: str, status_line: str = "HTTP/1.1 200 OK") -> bytes:
    """A raw reply: the status line, ``headers`` as given ("Name: value"), a blank line, body."""
    return "\r\n".join([status_line, *headers, "", ""]).encode("latin-1") + body


# -- scripted replies: OpenAI answers (the last user message upper-cased) framed as asked


def answer_json(request: Received) -> bytes:
    """The OpenAI reply to ``request``: its last user message upper-cased."""
    body = json.loads(request.body)
    return json.dumps(openai_reply(body, last_user_text(body["messages"]).upper())).encode()


def json_reply(request: Received, *headers: str) -> Reply:
    """``answer_json`` with a Content-Length, kept alive."""
    data = answer_json(request)
    return Reply((http_reply(data, *headers, f"Content-Length: {len(data)}"),))


def chunked(request: Received) -> Reply:
    """The answer in 7-byte chunks, each chunk written on its own."""
    data = answer_json(request)
    chunks = [b"%x\r\n%s\r\n" % (len(data[i:i + 7]), data[i:i + 7])
              for i in range(0, len(data), 7)]
    head = http_reply(b"", "Content-Type: application/json", "Transfer-Encoding: chunked")
    return Reply((head, *chunks, b"0\r\n\r\n"))


def close_delimited(status_line: str) -> Callable[[Received], Reply]:
    """A reply with no Content-Length whose end is the connection closing."""
    return lambda request: Reply((http_reply(answer_json(request), status_line=status_line),),
                                 close=True)


def deflate_raw(data: bytes) -> bytes:
    """``data`` deflated with no zlib header (as some servers send "deflate")."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def read_head(reader: BinaryIO) -> tuple[str, str, dict[str, str]] | None:
    """Method, target and headers of the next request; None at end of stream."""
    request_line = reader.readline().decode("latin-1").split(" ", 2)
    if len(request_line) != 3:  # end of stream, or not HTTP (a refused TLS handshake)
        return None
    method, target, _ = request_line
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


class _ThreadedServer:
    """Accepts on 127.0.0.1 in a thread and serves each connection in its own thread."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopping = False
        self.received: list[Received] = []
        self._ended = threading.Condition()
        self.ended: set[int] = set()
        """Client ports of the connections that have ended (either side closed)."""

    def __enter__(self: _Server) -> _Server:
        threading.Thread(target=self._accept_loop, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):  # wake accept(): closing alone does not on Linux
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        self._listener.close()
        self.close_connections()

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    def close_connections(self) -> None:
        """Close every open connection at once, without a word (as an idle timeout does)."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):  # the client closed it first
                connection.shutdown(socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                connection, address = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve_quietly, args=(connection, address[1]),
                             daemon=True).start()

    def _serve_quietly(self, connection: socket.socket, client_port: int) -> None:
        try:
            if self._tls is not None:
                connection = self._tls.wrap_socket(connection, server_side=True)
            with self._lock:
                self._open.add(connection)
            self.serve(connection, client_port)
        except OSError:  # a refused handshake, or the client went away: the test checks it
            pass
        finally:
            with self._lock:
                self._open.discard(connection)
            connection.close()
            with self._ended:
                self.ended.add(client_port)
                self._ended.notify_all()

    def wait_ended(self, client_port: int, timeout: float = 5.0) -> bool:
        """Whether the connection from ``client_port`` ends within ``timeout`` seconds."""
        with self._ended:
            return self._ended.wait_for(lambda: client_port in self.ended, timeout)

    def record(self, request: Received) -> None:
        with self._lock:
            self.received.append(request)

    def serve(self, connection: socket.socket, client_port: int) -> None:
        raise NotImplementedError


class RawServer(_ThreadedServer):
    """Reads each request (Content-Length bodies) and writes what ``respond`` returns."""

    def __init__(self, respond: Callable[[Received], Reply],
                 tls: ssl.SSLContext | None = None) -> None:
        super().__init__(tls)
        self.respond = respond

    def serve(self, connection: socket.socket, client_port: int) -> None:
        reader = connection.makefile("rb")
        while (head := read_head(reader)) is not None:
            method, target, headers = head
            body = reader.read(int(headers.get("content-length") or 0))
            request = Received(method, target, headers, body, client_port)
            self.record(request)
            reply = self.respond(request)
            for piece in reply.pieces:
                connection.sendall(piece)
            if reply.close or not reply.pieces:
                return


class HttpProxy(_ThreadedServer):
    """A forward proxy: absolute-form requests are relayed, CONNECT is tunnelled.

    ``refuse`` answers every CONNECT with that status instead (407: wants
    credentials); ``tls`` makes it an https:// proxy (clients speak TLS to it). Each forwarded request is sent with ``Connection: close``,
    so one client connection carries one request.
    """

    def __init__(self, refuse: int | None = None, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(tls)
        self.refuse = refuse

    def serve(self, connection: socket.socket, client_port: int) -> None:
        reader = connection.makefile("rb")
        head = read_head(reader)
        if head is None:
            return
        method, target, headers = head
        if method == "CONNECT":
            self.record(Received(method, target, headers, b"", client_port))
            self._tunnel(connection, target)
            return
        body = reader.read(int(headers.get("content-length") or 0))
        self.record(Received(method, target, headers, body, client_port))
        url = urllib.parse.urlsplit(target)
        headers["connection"] = "close"
        request = f"{method} {url.path or '/'} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items())
        with socket.create_connection((url.hostname or "", url.port or 80)) as upstream:
            upstream.sendall(request.encode("latin-1") + b"\r\n" + body)
            _relay(upstream, connection)

    def _tunnel(self, connection: socket.socket, authority: str) -> None:
        if self.refuse is not None:
            connection.sendall(http_reply(
                b"", "Proxy-Authenticate: Basic realm=\"test\"", "Content-Length: 0",
                status_line=f"HTTP/1.1 {self.refuse} Proxy Authentication Required"))
            return
        host, _, port = authority.rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port))) as upstream:
            connection.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            back = threading.Thread(target=_relay, args=(upstream, connection), daemon=True)
            back.start()
            _relay(connection, upstream)
            back.join(5)


def _relay(source: socket.socket, sink: socket.socket) -> None:
    """Copy ``source`` to ``sink`` until ``source`` ends, then end ``sink``'s sending side."""
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:  # either side reset: the tunnel is over
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


# -- helpers for the tests using these servers ----------------------------------------


@asynccontextmanager
async def model_at(base_url: str, **config: Any) -> AsyncIterator[Model]:
    """``openai/m`` at ``base_url``, closed on exit."""
    model = get_model("openai/m", base_url=base_url, config=GenerateConfig(**config))
    try:
        yield model
    finally:
        await model.aclose()


def pool_of(model: Model) -> AiohttpTransport:
    """The model's transport (what was its connection pool)."""
    assert isinstance(model.api, OpenAIAPI)
    transport = model.api._http.transport
    assert isinstance(transport, AiohttpTransport)
    return transport


def idle_connections(model: Model | AiohttpTransport) -> int:
    """Connections the model's transport keeps idle for reuse (read from aiohttp's connector)."""
    session = (model if isinstance(model, AiohttpTransport) else pool_of(model))._session
    if session is None or session.closed or session.connector is None:
        return 0
    return sum(len(idle) for idle in session.connector._conns.values())


def idle_socket(model: Model) -> socket.socket:
    """The socket of the transport's one idle connection."""
    session = pool_of(model)._session
    assert session is not None and session.connector is not None
    [[(protocol, _)]] = session.connector._conns.values()
    assert protocol.transport is not None
    sock: socket.socket = protocol.transport.get_extra_info("socket")
    return sock


def ports(server: RawServer | ProviderServer) -> list[int]:
    """The client port of each request, in order (equal ports: the same connection)."""
    if isinstance(server, RawServer):
        return [request.client_port for request in server.received]
    return [request.client_port for request in server.requests]
