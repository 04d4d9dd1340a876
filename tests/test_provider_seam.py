"""The transport seam: the event-stream decoder and the in-memory MockTransport."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from evalkit.errors import ModelTransientError
from evalkit.model import GenerateConfig, get_model
from evalkit.model._providers._sse import EventDecoder, decode_events
from evalkit.model._providers._transport import ServerSentEvent
from evalkit.testing import ConnectFailed, HttpReply, HttpRequest, MockTransport
from evalkit.testing._provider_replies import openai_events, openai_reply


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


STREAM = (b"event: start\r\ndata: one\r\n\r\n: a comment, as keep-alive pings are\n\n"
          b"data: two\ndata: lines\n\nevent: named\ndata:no space\r\rdata: \xc3\xa9t\xc3\xa9\n\n")
EVENTS = [ServerSentEvent("start", "one"), ServerSentEvent("message", "two\nlines"),
          ServerSentEvent("named", "no space"), ServerSentEvent("message", "été")]


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


@pytest.mark.parametrize("size", [1, 2, 3, 7, len(STREAM)])
@pytest.mark.anyio
async def test_events_decode_however_the_bytes_are_split(size: int) -> None:
    """CRLF, CR and LF line ends, comments, multi-line data and UTF-8 survive any chunking."""
    assert [event async for event in decode_events(_chunks(STREAM, size))] == EVENTS


def test_an_event_cut_off_by_the_end_is_dropped() -> None:
    """An event without its closing blank line is not dispatched (the caller sees the cut)."""
    decoder = EventDecoder()
    assert decoder.feed("data: whole\n\ndata: half") == [ServerSentEvent("message", "whole")]
    assert decoder.feed("") == []


def _answer(request: HttpRequest) -> HttpReply:
    body = json.loads(request.body)
    reply = openai_reply(body, "mocked")
    if body.get("stream"):
        return HttpReply(200, {"content-type": "text/event-stream"},
                         b"".join(openai_events(reply, include_usage=True)))
    return HttpReply(200, {"content-type": "application/json"}, json.dumps(reply).encode())


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.anyio
async def test_mock_transport_answers_in_memory(stream: bool) -> None:
    """A model given a MockTransport sends nothing over the network, whole or streamed."""
    transport = MockTransport(_answer)
    model = get_model("openai/m", base_url="http://mock.invalid/v1", api_key="sk-mock",
                      transport=transport, stream=stream)
    output = await model.generate("hi")
    await model.aclose()
    assert output.completion == "mocked"
    [request] = transport.requests
    assert request.url == "http://mock.invalid/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-mock"
    assert "sk-mock" not in repr(request)
    assert transport.closed


@pytest.mark.anyio
async def test_mock_transport_failure_is_classified_and_retried() -> None:
    """A TransportError raised by the handler is a transient "connection failed", retried."""
    failures = iter([ConnectFailed("refused")])

    def flaky(request: HttpRequest) -> HttpReply:
        for failure in failures:
            raise failure
        return _answer(request)

    model = get_model("openai/m", base_url="http://mock.invalid/v1", api_key="k",
                      transport=MockTransport(flaky), config=GenerateConfig(max_retries=0))
    with pytest.raises(ModelTransientError, match="connection failed: refused"):
        await model.generate("hi")
    assert (await model.generate("hi")).completion == "mocked"


LAZY_IMPORT_CHECK = """
import sys
from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.model import get_model
from evalkit.testing import HttpReply, MockTransport

eval(Task(dataset=[Sample(input="hi", target="hi")]), model="mockllm/model",
     log_dir=sys.argv[1], display="none")
get_model("openai/m", base_url="http://127.0.0.1:9/v1", api_key="k",
          transport=MockTransport(lambda request: HttpReply(200, {}, b"{}")))
print("after mock:", "aiohttp" in sys.modules)
get_model("openai/m", base_url="http://127.0.0.1:9/v1", api_key="k")
print("after provider:", "aiohttp" in sys.modules)
"""


def test_aiohttp_is_imported_only_by_a_provider_making_its_own_transport(tmp_path: Path) -> None:
    """An eval on mockllm (or a provider given a MockTransport) never pays aiohttp's import."""
    out = subprocess.run([sys.executable, "-c", LAZY_IMPORT_CHECK, str(tmp_path)],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "after mock: False" in out
    assert "after provider: True" in out
