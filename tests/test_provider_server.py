"""The fake provider server itself: protocols, fault scripting, recording, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from evalkit.testing import Fault, ProviderServer, ToolCallReply
from evalkit.testing._provider_server import fault_from_name

OPENAI = "/v1/chat/completions"
ANTHROPIC = "/v1/messages"


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer(answer=lambda prompt: f"<{prompt}>") as running:
        yield running


@pytest.fixture
def client(server: ProviderServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


def ask(client: httpx.Client, path: str = OPENAI, text: str = "hi", **extra: Any) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": text}], **extra}
    return client.post(path, json=body, headers={"authorization": "Bearer sk-test"})


def test_openai_reply_shape(client: httpx.Client) -> None:
    """/v1/chat/completions answers a Chat Completion with the answer and word-count usage."""
    reply = ask(client, OPENAI, "two words").json()
    assert reply["choices"][0]["message"] == {"role": "assistant", "content": "<two words>"}
    assert reply["choices"][0]["finish_reason"] == "stop"
    assert reply["usage"]["prompt_tokens"] == 2
    assert reply["usage"]["completion_tokens"] == 2
    assert reply["usage"]["total_tokens"] == 4


def test_anthropic_reply_shape(client: httpx.Client) -> None:
    """/v1/messages answers a Message with text blocks and usage."""
    reply = ask(client, ANTHROPIC, "hello").json()
    assert reply["type"] == "message"
    assert reply["content"] == [{"type": "text", "text": "<hello>"}]
    assert reply["stop_reason"] == "end_turn"
    assert reply["usage"]["input_tokens"] == 1


def test_max_tokens_cuts_the_answer(client: httpx.Client) -> None:
    """A max_tokens below the answer's word count cuts it and says so."""
    reply = ask(client, ANTHROPIC, "a b c d", max_tokens=2).json()
    assert reply["content"][0]["text"] == "<a b"
    assert reply["stop_reason"] == "max_tokens"


def test_records_every_request(server: ProviderServer, client: httpx.Client) -> None:
    """Path, headers and body of each request are kept, faulted ones included."""
    server.inject(Fault.http(500))
    ask(client, OPENAI, "first")
    ask(client, ANTHROPIC, "second")
    first, second = server.requests
    assert (first.path, second.path) == (OPENAI, ANTHROPIC)
    assert first.headers["authorization"] == "Bearer sk-test"
    assert first.json["messages"][0]["content"] == "first"
    assert json.loads(second.text)["messages"][0]["content"] == "second"


def test_queued_faults_come_in_order(server: ProviderServer, client: httpx.Client) -> None:
    """inject(fault, times) gives exactly the next N requests that fault, in order."""
    server.inject(Fault.rate_limit(retry_after=2), times=2)
    server.inject(Fault.http(502))
    replies = [ask(client) for _ in range(4)]
    assert [reply.status_code for reply in replies] == [429, 429, 502, 200]
    assert replies[0].headers["retry-after"] == "2"


def test_permanent_fault_until_cleared(server: ProviderServer, client: httpx.Client) -> None:
    """inject_always holds after the queue runs out, until clear_faults."""
    server.inject(Fault.http(503))
    server.inject_always(Fault.insufficient_quota())
    assert [ask(client).status_code for _ in range(3)] == [503, 429, 429]
    server.clear_faults()
    assert ask(client).status_code == 200


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            OPENAI,
            {
                "error": {
                    "message": "Overloaded",
                    "type": "overloaded_error",
                    "param": None,
                    "code": "overloaded_error",
                }
            },
        ),
        (
            ANTHROPIC,
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ),
    ],
    ids=["openai", "anthropic"],
)
def test_error_body_follows_the_protocol(
    server: ProviderServer, client: httpx.Client, path: str, expected: dict[str, Any]
) -> None:
    """An HTTP fault answers in the error shape of the protocol that was called."""
    server.inject(Fault.overloaded())
    reply = ask(client, path)
    assert reply.status_code == 529
    assert reply.json() == expected


def test_401_quotes_the_presented_key(server: ProviderServer, client: httpx.Client) -> None:
    """Like OpenAI, the 401 message quotes the key, so redaction can be tested."""
    server.inject(Fault.http(401))
    assert "sk-test" in ask(client).json()["error"]["message"]


def test_answer_next_then_answer_function(server: ProviderServer, client: httpx.Client) -> None:
    """Scripted answers are used first (tool calls included), then the answer function."""
    server.answer_next(ToolCallReply("add", {"a": 1}, id="c7"), "scripted")
    call = ask(client).json()["choices"][0]
    assert call["finish_reason"] == "tool_calls"
    assert call["message"]["tool_calls"][0]["function"] == {"name": "add", "arguments": '{"a": 1}'}
    assert ask(client).json()["choices"][0]["message"]["content"] == "scripted"
    assert ask(client, text="x").json()["choices"][0]["message"]["content"] == "<x>"


def test_drop_closes_without_reply(server: ProviderServer, client: httpx.Client) -> None:
    """A dropped request gets no HTTP reply at all."""
    server.inject(Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        ask(client)
    assert ask(client).status_code == 200


def test_hang_never_answers(server: ProviderServer) -> None:
    """A hung request gets nothing before the client's own timeout."""
    server.inject(Fault.hang())
    with (
        httpx.Client(base_url=server.url, timeout=0.2) as impatient,
        pytest.raises(httpx.ReadTimeout),
    ):
        ask(impatient)


def test_stop_releases_hung_requests() -> None:
    """Stopping the server ends a hung request at once instead of after hang_limit."""
    outcome: list[str] = []
    server = ProviderServer(hang_limit=30).start()
    server.inject(Fault.hang())

    def request() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            try:
                ask(http)
                outcome.append("answered")
            except httpx.HTTPError as exc:
                outcome.append(type(exc).__name__)

    worker = threading.Thread(target=request)
    worker.start()
    while not server.requests:
        threading.Event().wait(0.01)
    server.stop()
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert outcome == ["RemoteProtocolError"]


def test_malformed_json_is_a_200(server: ProviderServer, client: httpx.Client) -> None:
    """The malformed-JSON fault is a 200 whose body does not parse."""
    server.inject(Fault.malformed_json())
    reply = ask(client)
    assert reply.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()


def test_slow_and_delayed_replies_still_answer() -> None:
    """Fault.slow and the delay option make replies late, not wrong."""
    with ProviderServer(delay=0.01) as server, httpx.Client(base_url=server.url) as http:
        server.inject(Fault.slow(0.05))
        assert ask(http, text="late").json()["choices"][0]["message"]["content"] == "late"


def test_unknown_path_and_bad_body(client: httpx.Client) -> None:
    """Unknown routes are 404 and bodies without messages are 400."""
    assert ask(client, "/v1/completions").status_code == 404
    assert client.post(OPENAI, content=b"not json").status_code == 400


def test_fault_from_name() -> None:
    """CLI fault names are HTTP statuses or Fault constructor names."""
    assert fault_from_name("503") == Fault.http(503)
    assert fault_from_name("insufficient_quota") == Fault.insufficient_quota()
    with pytest.raises(ValueError, match="unknown fault"):
        fault_from_name("explode")


def test_runs_as_a_module() -> None:
    """``python -m evalkit.testing._provider_server`` serves and applies --fault/--times."""
    command = [
        sys.executable,
        "-m",
        "evalkit.testing._provider_server",
        "--fault",
        "503",
        "--times",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match is not None, line
        with httpx.Client(base_url=match.group(0), timeout=5) as http:
            assert ask(http).status_code == 503
            assert ask(http, text="ok").json()["choices"][0]["message"]["content"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=5)
