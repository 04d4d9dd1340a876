"""A real HTTP server that speaks the OpenAI and Anthropic protocols, with scripted faults.

It listens on 127.0.0.1 (an ephemeral port by default) in a background thread,
answers ``POST /v1/chat/completions`` (OpenAI) and ``POST /v1/messages``
(Anthropic) deterministically, counts tokens as words, and records every
request. Faults are queued for the next N requests or switched on until cleared::

    with ProviderServer(answer=lambda prompt: prompt.upper()) as server:
        server.inject(Fault.rate_limit(retry_after=0), times=3)  # the next 3 requests
        server.inject_always(Fault.insufficient_quota())         # from now on, until
        server.clear_faults()
        model = get_model("openai/m", base_url=server.openai_base_url, api_key="k")

Run it standalone with ``python -m evalkit.testing._provider_server``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast

from ._provider_replies import (
    ANTHROPIC_PATH,
    OPENAI_PATH,
    ToolCallReply,
    anthropic_reply,
    anthropic_request_problem,
    error_body,
    last_user_text,
    openai_reply,
    stream_events,
)

__all__ = ["Fault", "ProviderServer", "RecordedRequest", "ToolCallReply"]

Answer = Callable[[str], "str | ToolCallReply"]
FaultKind = Literal["http", "slow", "hang", "drop", "raw", "cut"]


@dataclass(frozen=True)
class Fault:
    """What the server does instead of (or before) a normal answer. Build one with:

    - ``Fault.http(status, message=None, retry_after=None)``: an error in the
      protocol of the path called (``rate_limit``, ``insufficient_quota``,
      ``credit_too_low`` and ``overloaded`` are named ones);
    - ``Fault.slow(seconds)``: the normal answer, late;
    - ``Fault.hang()``: no answer until the server stops (or ``hang_limit``);
    - ``Fault.drop()``: the connection closed without a reply;
    - ``Fault.malformed_json()``: a 200 whose JSON is cut short, as by a proxy;
    - ``Fault.raw(status, body, headers)``: exactly that reply (a scripted
      event stream too, with ``Content-Type: text/event-stream``);
    - ``Fault.cut_stream(events)``: a streamed answer whose connection is
      closed after ``events`` events (a whole reply: after half its body).
    """

    kind: FaultKind
    status: int = 200
    message: str | None = None
    error_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    body: str | None = None

    @classmethod
    def http(cls, status: int, message: str | None = None, *, error_type: str | None = None,
             retry_after: str | float | None = None) -> Fault:
        headers = () if retry_after is None else (("Retry-After", str(retry_after)),)
        return cls("http", status, message, error_type, headers)

    @classmethod
    def rate_limit(cls, retry_after: str | float | None = None) -> Fault:
        return cls.http(429, "Rate limit reached for requests.", error_type="rate_limit_error",
                        retry_after=retry_after)

    @classmethod
    def insufficient_quota(cls) -> Fault:
        return cls.http(429, "You exceeded your current quota, please check your plan and "
                        "billing details.", error_type="insufficient_quota")

    @classmethod
    def credit_too_low(cls, status: int = 400) -> Fault:
        return cls.http(status, "Your credit balance is too low to access the API.",
                        error_type="invalid_request_error")

    @classmethod
    def overloaded(cls) -> Fault:
        return cls.http(529, "Overloaded", error_type="overloaded_error")

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls("slow", delay=seconds)

    @classmethod
    def hang(cls) -> Fault:
        return cls("hang")

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def malformed_json(cls) -> Fault:
        return cls.raw(200, '{"id": "truncated", "choices": [{"message": {"content": "par')

    @classmethod
    def raw(cls, status: int, body: str, headers: tuple[tuple[str, str], ...] = ()) -> Fault:
        return cls("raw", status, headers=headers, body=body)

    @classmethod
    def cut_stream(cls, events: int = 2) -> Fault:
        return cls("cut", delay=float(events))


@dataclass(frozen=True)
class RecordedRequest:
    """A request as received: lower-cased header names, body text and decoded JSON (or None)."""

    method: str
    path: str
    headers: dict[str, str]
    text: str
    json: Any = None
    client_port: int = 0
    """The client's port: requests with the same one came over the same connection."""


class ProviderServer:
    """A deterministic OpenAI + Anthropic server on 127.0.0.1, run in a thread.

    ``answer`` maps the last user message's text to a reply (text, or a
    ``ToolCallReply``); the default echoes it. ``delay`` slows every normal
    reply by that many seconds. ``hang_limit`` bounds a hung reply if
    ``stop`` is never called. ``close_each`` closes the connection after
    every reply, as an HTTP/1.0 server does; ``backlog`` is the listen queue
    (the default of ``http.server``, 5, drops a burst of connects for 1 s).
    """

    def __init__(
        self,
        answer: Answer = lambda prompt: prompt,
        *,
        delay: float = 0.0,
        port: int = 0,
        hang_limit: float = 60.0,
        close_each: bool = False,
        backlog: int = 256,
    ) -> None:
        self.answer = answer
        self.close_each = close_each
        self.backlog = backlog
        self.delay = delay
        self.hang_limit = hang_limit
        self._port = port
        self._lock = threading.Lock()
        self._queued_faults: collections.deque[Fault] = collections.deque()
        self._always: Fault | None = None
        self._queued_answers: collections.deque[str | ToolCallReply] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None

    def start(self) -> ProviderServer:
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler, bind_and_activate=False)
        self._httpd.request_queue_size = self.backlog
        self._httpd.provider_server = self
        try:
            self._httpd.server_bind()
            self._httpd.server_activate()
        except OSError:
            self._httpd.server_close()
            raise
        self._stopping.clear()
        # stop() waits up to one poll interval; short, as tests stop a server each.
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
                         daemon=True, name=f"ProviderServer:{self.port}").start()
        return self

    def stop(self) -> None:
        """Stop serving; hung and slow replies end at once, open connections are closed."""
        self._stopping.set()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            _close_quietly(sock)
        self._httpd = None

    def __enter__(self) -> ProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("ProviderServer is not started; call start() or use `with`")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        """The OPENAI_BASE_URL / --model-base-url for ``openai/...`` models."""
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The ANTHROPIC_BASE_URL / --model-base-url for ``anthropic/...`` models."""
        return self.url

    def inject(self, fault: Fault, times: int = 1) -> None:
        """Give the next ``times`` requests this fault (after faults already queued)."""
        with self._lock:
            self._queued_faults.extend([fault] * times)

    def inject_always(self, fault: Fault) -> None:
        """Give every request this fault once the queue is empty, until ``clear_faults``."""
        with self._lock:
            self._always = fault

    def clear_faults(self) -> None:
        """Drop queued faults and the permanent one: answer normally from now on."""
        with self._lock:
            self._queued_faults.clear()
            self._always = None

    def answer_next(self, *replies: str | ToolCallReply) -> None:
        """Answer the next successful requests with these replies, in order, then ``answer``."""
        with self._lock:
            self._queued_answers.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, faulted or not, in arrival order."""
        with self._lock:
            return list(self._requests)

    def _record(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            self._requests.append(request)
            return self._queued_faults.popleft() if self._queued_faults else self._always

    def _reply_for(self, prompt: str) -> str | ToolCallReply:
        with self._lock:
            if self._queued_answers:
                return self._queued_answers.popleft()
        return self.answer(prompt)

    def _track(self, sock: socket.socket, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(sock)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a hung handler must never keep the test process alive
    provider_server: ProviderServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a pooled client reuses connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall

    @property
    def owner(self) -> ProviderServer:
        return cast(_HTTPServer, self.server).provider_server

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, open_=True)

    def finish(self) -> None:
        self.owner._track(self.connection, open_=False)
        with contextlib.suppress(OSError):  # the socket was closed by a drop or stop()
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and benchmarks should not print a line per request."""

    def do_POST(self) -> None:
        text = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8")
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        headers = {key.lower(): value for key, value in self.headers.items()}
        request = RecordedRequest("POST", self.path, headers, text, decoded,
                                  self.client_address[1])
        self._request = request
        fault = self.owner._record(request)
        if fault is not None and fault.kind != "slow":
            self._perform(fault)
            return
        wait = (fault.delay if fault is not None else 0.0) + self.owner.delay
        if wait and self.owner._stopping.wait(wait):
            self._drop()
            return
        self._answer(request)

    def _perform(self, fault: Fault) -> None:
        if fault.kind == "drop":
            self._drop()
        elif fault.kind == "cut":
            self._answer(self._request, cut_after=int(fault.delay))
        elif fault.kind == "hang":
            self.owner._stopping.wait(self.owner.hang_limit)
            self._drop()
        elif fault.kind == "raw":
            self._send(fault.status, (fault.body or "").encode(), dict(fault.headers))
        else:
            self._send_error(fault.status, fault.message, fault.error_type, dict(fault.headers))

    def _answer(self, request: RecordedRequest, cut_after: int | None = None) -> None:
        body = request.json
        if self.path not in (OPENAI_PATH, ANTHROPIC_PATH):
            self._send_error(404, f"no route POST {self.path}", "not_found_error")
        elif not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(400, "the body must be a JSON object with messages", None)
        elif self.path == ANTHROPIC_PATH and (problem := anthropic_request_problem(body)):
            self._send_error(400, problem, "invalid_request_error")
        else:
            reply = self.owner._reply_for(last_user_text(body["messages"]))
            make = openai_reply if self.path == OPENAI_PATH else anthropic_reply
            whole = make(body, reply)
            if body.get("stream") is True:
                self._send_stream(stream_events(self.path, body, whole), cut_after)
            elif cut_after is not None:
                payload = json.dumps(whole).encode()
                self._send(200, payload[:len(payload) // 2], {},
                           length=len(payload))
                self._drop()
            else:
                self._send_json(200, whole)

    def _send_stream(self, events: list[bytes], cut_after: int | None) -> None:
        """``events`` as a chunked ``text/event-stream``; the connection dropped after ``cut_after``."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in events[:cut_after]:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
            if cut_after is not None:
                self._drop()
                return
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client gave up before the end
            self.close_connection = True
        if self.owner.close_each:
            self.close_connection = True

    def _send_error(self, status: int, message: str | None, error_type: str | None,
                    headers: dict[str, str] | None = None) -> None:
        key = self.headers.get("x-api-key") or self.headers.get("authorization", "")[7:]
        body = error_body(self.path, status, message, error_type, key)
        self._send_json(status, body, headers)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers or {})

    def _send(self, status: int, payload: bytes, headers: dict[str, str],
              length: int | None = None) -> None:
        if self.owner.close_each:
            self.close_connection = True
            headers = {**headers, "Connection": "close"}
        try:
            self.send_response(status)
            if not any(key.lower() == "content-type" for key in headers):
                self.send_header("Content-Type", "application/json")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload) if length is None else length))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up (attempt timeout) before the reply
            self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        _close_quietly(self.connection)


def _close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


_NAMED_FAULTS = ("rate_limit", "insufficient_quota", "credit_too_low", "overloaded", "hang",
                 "drop", "malformed_json")


def fault_from_name(name: str) -> Fault:
    """A fault from a CLI name: an HTTP status (``429``) or a ``Fault`` constructor's name."""
    if name.isdigit():
        return Fault.http(int(name))
    if name not in _NAMED_FAULTS:
        raise ValueError(f"unknown fault {name!r}: an HTTP status or one of {_NAMED_FAULTS}")
    fault: Fault = getattr(Fault, name)()
    return fault


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evalkit.testing._provider_server",
        description="Serve fake OpenAI (/v1/chat/completions) and Anthropic (/v1/messages) "
        "models that echo the last user message.",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each reply")
    parser.add_argument("--fault", help="HTTP status or fault name to answer with")
    parser.add_argument("--times", type=int, help="fault only the first N requests")
    parser.add_argument("--close-each", action="store_true",
                        help="close the connection after every reply (HTTP/1.0 style)")
    parser.add_argument("--backlog", type=int, default=256, help="listen queue length")
    args = parser.parse_args(argv)
    server = ProviderServer(delay=args.delay, port=args.port, close_each=args.close_each,
                            backlog=args.backlog).start()
    if args.fault:
        fault = fault_from_name(args.fault)
        server.inject(fault, args.times) if args.times else server.inject_always(fault)
    print(f"listening on {server.url} (OpenAI base URL {server.openai_base_url})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
