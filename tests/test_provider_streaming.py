"""Streamed replies (``stream: true``, server-sent events) from both providers, on real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import pytest

from evalkit._transcript import ModelEvent
from evalkit.errors import ModelTransientError, QuotaExhaustedError, UsageError
from evalkit.model import GenerateConfig, Model, ToolInfo, get_model
from evalkit.model._providers._base import LONG_REQUEST_MAX_TOKENS
from evalkit.testing import Fault, ProviderServer, ToolCallReply
from evalkit.testing._provider_replies import anthropic_reply, openai_reply

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]
PROVIDERS = ["openai", "anthropic"]
SSE = (("Content-Type", "text/event-stream"),)
ADD_TOOL = ToolInfo(name="add", description="Add two numbers.",
                    parameters={"type": "object", "properties": {"a": {"type": "integer"}}})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def base_url(server: ProviderServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


@asynccontextmanager
async def streaming_model(server: ProviderServer, provider: str, stream: Any = True,
                          **config: Any) -> AsyncIterator[Model]:
    """``provider/m`` at ``server`` with ``-M stream=...``, closed on exit."""
    model = get_model(f"{provider}/m", base_url=base_url(server, provider), stream=stream,
                      config=GenerateConfig(**config))
    try:
        yield model
    finally:
        await model.aclose()


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_streamed_reply_is_assembled(provider_server: ProviderServer, provider: str,
                                           model_events: RecordedEvents) -> None:
    """A streamed answer arrives whole: text, stop reason, usage, and the raw events recorded."""
    with anyio.fail_after(10):
        async with streaming_model(provider_server, provider) as model, \
                model_events() as events:
            output = await model.generate("one two three four")
            await model.generate("again")
    assert output.completion == "ONE TWO THREE FOUR"
    assert output.stop_reason == "stop"
    assert output.usage is not None
    assert (output.usage.input_tokens, output.usage.output_tokens) == (4, 4)
    sent = provider_server.requests[0].json
    assert sent["stream"] is True
    if provider == "openai":
        assert sent["stream_options"] == {"include_usage": True}
    event = events[0]
    assert event.raw is not None
    assert event.raw.count("data: ") > 5
    assert ("[DONE]" if provider == "openai" else "event: message_stop") in event.raw
    assert model.retries == 0
    first, second = (request.client_port for request in provider_server.requests)
    assert first == second  # read to its end, the stream's connection was kept for the next call


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_streamed_tool_call_is_assembled(provider_server: ProviderServer,
                                               provider: str) -> None:
    """A tool call whose arguments arrive in pieces is joined and decoded."""
    provider_server.answer_next(ToolCallReply("add", {"a": 41, "note": "x y"}, id="c7"))
    async with streaming_model(provider_server, provider) as model:
        output = await model.generate("add", tools=[ADD_TOOL])
    [call] = output.message.tool_calls or []
    assert (call.id, call.function, call.arguments, call.parse_error) == (
        "c7", "add", {"a": 41, "note": "x y"}, None)
    assert output.stop_reason == "tool_calls"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(("max_tokens", "streamed"),
                         [(LONG_REQUEST_MAX_TOKENS + 1, True), (LONG_REQUEST_MAX_TOKENS, False),
                          (None, False)])
@pytest.mark.anyio
async def test_long_requests_stream_by_default(provider_server: ProviderServer, provider: str,
                                               max_tokens: int | None, streamed: bool) -> None:
    """With stream "auto" (the default) only a request whose max_tokens implies a long reply streams."""
    async with streaming_model(provider_server, provider, stream="auto",
                               max_tokens=max_tokens) as model:
        assert (await model.generate("long one")).completion == "LONG ONE"
    assert provider_server.requests[0].json.get("stream", False) is streamed


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_stream_false_never_streams(provider_server: ProviderServer, provider: str) -> None:
    """-M stream=false sends even a long request whole."""
    async with streaming_model(provider_server, provider, stream="false",
                               max_tokens=100_000) as model:
        assert (await model.generate("whole")).completion == "WHOLE"
    assert "stream" not in provider_server.requests[0].json


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_cut_stream_is_retried(provider_server: ProviderServer, provider: str,
                                     model_events: RecordedEvents) -> None:
    """A stream whose connection drops mid-way is a transient error; the retry answers whole."""
    provider_server.inject(Fault.cut_stream(events=3))
    with anyio.fail_after(10):
        async with streaming_model(provider_server, provider) as model, \
                model_events() as events:
            output = await model.generate("first second third fourth fifth")
    assert output.completion == "FIRST SECOND THIRD FOURTH FIFTH"
    assert model.retries == 1
    [reason] = events[0].retries
    assert "connection failed" in reason


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_cut_stream_without_retries_is_transient(provider_server: ProviderServer,
                                                       provider: str) -> None:
    """With no retries left a cut stream ends the call as a transient "connection failed"."""
    provider_server.inject_always(Fault.cut_stream(events=2))
    async with streaming_model(provider_server, provider, max_retries=0) as model:
        with pytest.raises(ModelTransientError, match="connection failed"):
            await model.generate("a b c d e f")


CLEAN_END_BUT_INCOMPLETE = {
    # The server ends the reply properly, but the protocol's last event never came.
    "openai": 'data: {"choices": [{"index": 0, "delta": {"content": "par"}}]}\n\n',
    "anthropic": ('event: message_start\ndata: {"type": "message_start", "message": '
                  '{"model": "m", "content": [], "usage": {"input_tokens": 1}}}\n\n'),
}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_stream_without_its_last_event_is_transient(provider_server: ProviderServer,
                                                          provider: str) -> None:
    """A stream that ends before [DONE] / message_stop is retried as a cut one."""
    provider_server.inject(Fault.raw(200, CLEAN_END_BUT_INCOMPLETE[provider], SSE))
    async with streaming_model(provider_server, provider) as model:
        assert (await model.generate("again")).completion == "AGAIN"
    assert model.retries == 1


ERROR_EVENTS = {
    "openai": ('data: {"error": {"message": "The server is overloaded", "code": 503}}\n\n',
               ModelTransientError),
    "anthropic": ('event: error\ndata: {"type": "error", "error": {"type": "overloaded_error", '
                  '"message": "Overloaded"}}\n\n', ModelTransientError),
    "anthropic-billing": ('event: error\ndata: {"type": "error", "error": {"type": '
                          '"invalid_request_error", "message": "Your credit balance is too low '
                          'to access the API."}}\n\n', QuotaExhaustedError),
}


@pytest.mark.parametrize("case", list(ERROR_EVENTS))
@pytest.mark.anyio
async def test_error_event_mid_stream_is_classified(provider_server: ProviderServer,
                                                    case: str) -> None:
    """An error reported inside a 200 stream is classified by the same table as an HTTP error."""
    body, expected = ERROR_EVENTS[case]
    provider_server.inject_always(Fault.raw(200, body, SSE))
    async with streaming_model(provider_server, case.split("-")[0], max_retries=0) as model:
        with pytest.raises(expected) as info:
            await model.generate("x")
    assert type(info.value) is expected


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_server_that_ignores_stream_is_understood(provider_server: ProviderServer,
                                                        provider: str) -> None:
    """A compatible server that answers a stream request with whole JSON is read as whole JSON."""
    make = openai_reply if provider == "openai" else anthropic_reply
    whole = make({"model": "m", "messages": []}, "PLAIN")
    provider_server.inject(Fault.raw(200, json.dumps(whole)))
    async with streaming_model(provider_server, provider) as model:
        assert (await model.generate("plain")).completion == "PLAIN"
    assert model.retries == 0
    assert provider_server.requests[0].json["stream"] is True


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.anyio
async def test_error_status_to_a_stream_request_is_classified(
    provider_server: ProviderServer, provider: str
) -> None:
    """A 429 answered to a stream request is retried, honouring the table, as for a whole one."""
    provider_server.inject(Fault.rate_limit(retry_after=0))
    async with streaming_model(provider_server, provider) as model:
        assert (await model.generate("later")).completion == "LATER"
    assert model.retries == 1


@pytest.mark.parametrize("value", ["sometimes", 3])
def test_bad_stream_setting_is_a_usage_error(value: object) -> None:
    """-M stream= takes true, false or auto; anything else says so."""
    with pytest.raises(UsageError, match=r"stream=.*true, false or auto"):
        get_model("openai/m", base_url="http://127.0.0.1:9/v1", stream=value)
