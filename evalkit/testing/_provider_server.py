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
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, cast

__all__ = ["Fault", "ProviderServer", "RecordedRequest", "ToolCallReply"]

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"

Answer = Callable[[str], "str | ToolCallReply"]
FaultKind = Literal["http", "slow", "hang", "drop", "raw"]


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
    - ``Fault.raw(status, body, headers)``: exactly that reply.
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


@dataclass(frozen=True)
class ToolCallReply:
    """An answer that calls a tool; ``arguments`` given as a string are sent verbatim."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = "call_1"
    content: str = ""


# (error type, message) per status, shaped like the real providers' errors.
# None of these messages says quota/billing/credit: that is for the named faults.
_ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "Incorrect API key provided: {key}."),
    402: ("billing_error", "Payment required."),
    403: ("permission_error", "Your API key does not have permission to use this model."),
    404: ("not_found_error", "The model does not exist."),
    408: ("timeout_error", "Request timed out."),
    413: ("request_too_large", "Request exceeds the maximum allowed size."),
    422: ("invalid_request_error", "Unprocessable request."),
    429: ("rate_limit_error", "Rate limit reached for requests."),
    500: ("api_error", "Internal server error."),
    502: ("api_error", "Bad gateway."),
    503: ("api_error", "Service unavailable."),
    504: ("api_error", "Gateway timeout."),
    529: ("overloaded_error", "Overloaded."),
}


def error_body(path: str, status: int, message: str | None, error_type: str | None,
               key: str = "") -> dict[str, Any]:
    """An error in the protocol of ``path``; a 401 quotes the key, as OpenAI's does."""
    default_type, default_message = _ERROR_DEFAULTS.get(status, ("api_error", f"HTTP {status}"))
    error = {"type": error_type or default_type,
             "message": message or default_message.format(key=key)}
    if path == ANTHROPIC_PATH:
        return {"type": "error", "error": error}
    return {"error": {**error, "param": None, "code": error["type"]}}


def _text_of(content: Any, *, tool_results: bool = False) -> str:
    """The text of a message's content: a string, or text (and tool_result) blocks."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "tool_result" and tool_results:
            parts.append(_text_of(block.get("content"), tool_results=True))
    return "\n".join(parts)


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message that has text (tool results are skipped)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text_of(message.get("content"))
            if text:
                return text
    return ""


def _prompt_words(body: dict[str, Any]) -> int:
    """Input tokens, counted as words of every message and the system prompt."""
    texts = [_text_of(message.get("content"), tool_results=True)
             for message in body["messages"] if isinstance(message, dict)]
    texts.append(_text_of(body.get("system")))
    return sum(len(text.split()) for text in texts)


def _answer_text(body: dict[str, Any], reply: str | ToolCallReply) -> tuple[str, bool]:
    """The reply's text cut to the request's max tokens (words), and whether it was cut."""
    text = reply.content if isinstance(reply, ToolCallReply) else reply
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    words = text.split()
    if isinstance(reply, ToolCallReply) or not isinstance(limit, int) or len(words) <= limit:
        return text, False
    return " ".join(words[:limit]), True


def openai_reply(body: dict[str, Any], reply: str | ToolCallReply) -> dict[str, Any]:
    text, cut = _answer_text(body, reply)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "length" if cut else "stop"
    if isinstance(reply, ToolCallReply):
        arguments = reply.arguments
        message["content"] = text or None
        message["tool_calls"] = [{"id": reply.id, "type": "function", "function": {
            "name": reply.name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)}}]
        finish = "tool_calls"
    prompt, completion = _prompt_words(body), max(1, len(text.split()))
    return {
        "id": "chatcmpl-evalkit", "object": "chat.completion", "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0}},
    }


def anthropic_reply(body: dict[str, Any], reply: str | ToolCallReply) -> dict[str, Any]:
    text, cut = _answer_text(body, reply)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    stop_reason = "max_tokens" if cut else "end_turn"
    if isinstance(reply, ToolCallReply):
        content.append({"type": "tool_use", "id": reply.id, "name": reply.name,
                        "input": reply.arguments})
        stop_reason = "tool_use"
    return {
        "id": "msg_evalkit", "type": "message", "role": "assistant",
        "model": body.get("model"), "content": content,
        "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": _prompt_words(body),
                  "output_tokens": max(1, len(text.split())),
                  "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
    }


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
    ``stop`` is never called.
    """

    def __init__(
        self,
        answer: Answer = lambda prompt: prompt,
        *,
        delay: float = 0.0,
        port: int = 0,
        hang_limit: float = 60.0,
    ) -> None:
        self.answer = answer
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
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler)
        self._httpd.provider_server = self
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
    request_queue_size = 256  # the default backlog of 5 drops a burst of connects for 1 s
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
        elif fault.kind == "hang":
            self.owner._stopping.wait(self.owner.hang_limit)
            self._drop()
        elif fault.kind == "raw":
            self._send(fault.status, (fault.body or "").encode(), dict(fault.headers))
        else:
            self._send_error(fault.status, fault.message, fault.error_type, dict(fault.headers))

    def _answer(self, request: RecordedRequest) -> None:
        body = request.json
        if self.path not in (OPENAI_PATH, ANTHROPIC_PATH):
            self._send_error(404, f"no route POST {self.path}", "not_found_error")
        elif not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(400, "the body must be a JSON object with messages", None)
        else:
            reply = self.owner._reply_for(last_user_text(body["messages"]))
            make = openai_reply if self.path == OPENAI_PATH else anthropic_reply
            self._send_json(200, make(body, reply))

    def _send_error(self, status: int, message: str | None, error_type: str | None,
                    headers: dict[str, str] | None = None) -> None:
        key = self.headers.get("x-api-key") or self.headers.get("authorization", "")[7:]
        body = error_body(self.path, status, message, error_type, key)
        self._send_json(status, body, headers)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers or {})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            if not any(key.lower() == "content-type" for key in headers):
                self.send_header("Content-Type", "application/json")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
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
    args = parser.parse_args(argv)
    server = ProviderServer(delay=args.delay, port=args.port).start()
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
