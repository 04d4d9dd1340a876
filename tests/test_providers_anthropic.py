"""``anthropic/<model>`` against a real HTTP server on 127.0.0.1: mapping, parsing, faults."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import pytest

from evalkit._transcript import ModelEvent
from evalkit.errors import (
    AuthError,
    ModelError,
    ModelRequestError,
    ModelTransientError,
    QuotaExhaustedError,
    UsageError,
)
from evalkit.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ToolCall,
    ToolChoice,
    ToolFunction,
    ToolInfo,
    get_model,
)
from evalkit.model._providers.anthropic import messages_request
from evalkit.testing import Fault, ProviderServer, ToolCallReply

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries")
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]

ADD_TOOL = ToolInfo(
    name="add",
    description="Add two numbers.",
    parameters={"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CONVERSATION = [
    ChatMessageSystem(content="Be terse."),
    ChatMessageUser(content="What is 1+2?"),
    ChatMessageAssistant(
        content="Let me add.",
        tool_calls=[
            ToolCall(id="t1", function="add", arguments={"a": 1}),
            ToolCall(id="t2", function="add", arguments={"a": 2}),
        ],
    ),
    ChatMessageTool(content="3", tool_call_id="t1", function="add"),
    ChatMessageTool(content="", tool_call_id="t2", function="add", error="boom"),
    ChatMessageUser(content="And so?"),
]
WIRE_MESSAGES = [
    {"role": "user", "content": [{"type": "text", "text": "What is 1+2?"}]},
    {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me add."},
            {"type": "tool_use", "id": "t1", "name": "add", "input": {"a": 1}},
            {"type": "tool_use", "id": "t2", "name": "add", "input": {"a": 2}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": "3"},
            {
                "type": "tool_result",
                "tool_use_id": "t2",
                "content": "boom",
                "is_error": True,
            },
            {"type": "text", "text": "And so?"},
        ],
    },
]


@pytest.mark.anyio
async def test_request_maps_messages_tools_and_config(
    provider_server: ProviderServer, open_model: ServedModel, fake_keys: dict[str, str]
) -> None:
    """System is split out, tool calls/results become blocks, options reach the wire."""
    config = dict(temperature=0.2, top_p=0.9, stop_seqs=["END"], seed=7)
    async with open_model(provider_server, "anthropic", **config) as model:
        await model.generate(CONVERSATION, tools=[ADD_TOOL], tool_choice="any")
    [request] = provider_server.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == fake_keys["anthropic"]
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json == {
        "model": "test-model",
        "max_tokens": 4096,
        "system": "Be terse.",
        "messages": WIRE_MESSAGES,
        "tools": [
            {"name": "add", "description": "Add two numbers.", "input_schema": ADD_TOOL.parameters}
        ],
        "tool_choice": {"type": "any"},
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("any", {"type": "any"}),
        (ToolFunction(name="add"), {"type": "tool", "name": "add"}),
    ],
    ids=["auto", "none", "any", "function"],
)
def test_tool_choice_mapping(choice: ToolChoice, expected: dict[str, str]) -> None:
    """tool_choice maps to Anthropic's objects."""
    body = messages_request(
        "m", [ChatMessageUser(content="hi")], [ADD_TOOL], choice, GenerateConfig()
    )
    assert body["tool_choice"] == expected


def test_max_tokens_from_config_and_several_system_messages() -> None:
    """max_tokens from the config replaces the default; system messages are joined."""
    messages = [
        ChatMessageSystem(content="A."),
        ChatMessageUser(content="hi"),
        ChatMessageSystem(content="B."),
    ]
    body = messages_request("m", messages, [], None, GenerateConfig(max_tokens=12))
    assert body["max_tokens"] == 12
    assert body["system"] == "A.\n\nB."
    assert [turn["role"] for turn in body["messages"]] == ["user"]
    assert "tools" not in body


@pytest.mark.anyio
async def test_reply_text_usage_and_raw(
    provider_server: ProviderServer, open_model: ServedModel, model_events: RecordedEvents
) -> None:
    """The answer, its usage and the raw reply text come back and are recorded."""
    async with open_model(provider_server, "anthropic") as model, model_events() as events:
        output = await model.generate("hello there")
    assert output.completion == "HELLO THERE"
    assert output.stop_reason == "stop"
    assert output.usage is not None
    assert output.usage.model_dump() == {
        "input_tokens": 2,
        "output_tokens": 2,
        "total_tokens": 4,
        "input_tokens_cache_read": 0,
        "reasoning_tokens": None,
    }
    assert output.raw is not None
    assert json.loads(output.raw)["id"] == "msg_evalkit"
    assert events[0].output == "HELLO THERE"


def message_body(
    content: list[dict[str, Any]],
    stop_reason: str | None = "end_turn",
    usage: dict[str, Any] | None = None,
) -> str:
    return json.dumps(
        {
            "id": "m",
            "type": "message",
            "role": "assistant",
            "model": "served",
            "content": content,
            "stop_reason": stop_reason,
            "usage": usage or {"input_tokens": 1, "output_tokens": 1},
        }
    )


@pytest.mark.anyio
async def test_cache_tokens_count_as_input(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """Cache reads and writes are added to input_tokens; reads are also reported apart."""
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_input_tokens": 100,
        "cache_creation_input_tokens": 20,
    }
    body = message_body([{"type": "text", "text": "ok"}], usage=usage)
    provider_server.inject(Fault.raw(200, body))
    async with open_model(provider_server, "anthropic") as model:
        output = await model.generate("hi")
    assert output.model == "served"
    assert output.usage is not None
    assert (
        output.usage.input_tokens,
        output.usage.output_tokens,
        output.usage.total_tokens,
        output.usage.input_tokens_cache_read,
    ) == (130, 5, 135, 100)


@pytest.mark.parametrize(
    ("stop_reason", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "max_tokens"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "unknown"),
        (None, "unknown"),
    ],
)
@pytest.mark.anyio
async def test_stop_reason_mapping(
    provider_server: ProviderServer, open_model: ServedModel, stop_reason: str | None, expected: str
) -> None:
    """Each Anthropic stop_reason maps to evalkit's stop_reason."""
    provider_server.inject(
        Fault.raw(200, message_body([{"type": "text", "text": "x"}], stop_reason))
    )
    async with open_model(provider_server, "anthropic") as model:
        output = await model.generate("hi")
    assert output.stop_reason == expected


@pytest.mark.anyio
async def test_text_and_tool_use_blocks(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """Text blocks are joined; tool_use blocks become tool calls; thinking stays out of the text."""
    content = [
        {"type": "thinking", "thinking": "hmm", "signature": "s"},
        {"type": "text", "text": "I will "},
        {"type": "text", "text": "add."},
        {"type": "tool_use", "id": "tu1", "name": "add", "input": {"a": 5}},
        {"type": "tool_use", "id": "tu2", "name": "add", "input": "not an object"},
    ]
    provider_server.inject(Fault.raw(200, message_body(content, "tool_use")))
    async with open_model(provider_server, "anthropic") as model:
        output = await model.generate("add", tools=[ADD_TOOL])
    assert output.completion == "I will add."
    good, bad = output.message.tool_calls or []
    assert (good.id, good.function, good.arguments, good.parse_error) == (
        "tu1",
        "add",
        {"a": 5},
        None,
    )
    assert bad.arguments == {}
    assert bad.parse_error is not None
    assert "not a JSON object" in bad.parse_error


@pytest.mark.anyio
async def test_tool_call_round_trip_through_the_server(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """A served tool call parses, and its result goes back as a tool_result block."""
    provider_server.answer_next(ToolCallReply("add", {"a": 2}, id="toolu_1"), "Four.")
    async with open_model(provider_server, "anthropic") as model:
        first = await model.generate("2+2?", tools=[ADD_TOOL])
        [call] = first.message.tool_calls or []
        result = ChatMessageTool(content="4", tool_call_id=call.id, function=call.function)
        second = await model.generate(
            [ChatMessageUser(content="2+2?"), first.message, result], tools=[ADD_TOOL]
        )
    assert (call.id, call.arguments, first.stop_reason) == ("toolu_1", {"a": 2}, "tool_calls")
    assert second.completion == "Four."
    last_turn = provider_server.requests[1].json["messages"][-1]
    assert last_turn == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "4"}],
    }


@pytest.mark.anyio
async def test_base_url_from_environment(
    provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ANTHROPIC_BASE_URL is used when no --model-base-url is given."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", provider_server.anthropic_base_url)
    model = get_model("anthropic/env-model", api_key="sk-ant-from-M")
    try:
        assert (await model.generate("env")).completion == "ENV"
    finally:
        await model.aclose()
    assert provider_server.requests[0].headers["x-api-key"] == "sk-ant-from-M"


def test_missing_key_for_the_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ANTHROPIC_API_KEY for api.anthropic.com is a UsageError naming the variable."""
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(UsageError, match="ANTHROPIC_API_KEY is not set"):
        get_model("anthropic/claude-sonnet-4-0")


TRANSIENT_FAULTS = {
    "529-overloaded": Fault.overloaded(),
    "429": Fault.rate_limit(retry_after=0),
    "500": Fault.http(500),
    "dropped-connection": Fault.drop(),
    "malformed-json": Fault.malformed_json(),
    "hang": Fault.hang(),
}


@pytest.mark.parametrize("name", list(TRANSIENT_FAULTS))
@pytest.mark.anyio
async def test_transient_fault_is_retried_to_a_correct_answer(
    provider_server: ProviderServer,
    open_model: ServedModel,
    model_events: RecordedEvents,
    name: str,
) -> None:
    """Transient faults are retried until the correct answer arrives."""
    provider_server.inject(TRANSIENT_FAULTS[name], times=2)
    with anyio.fail_after(10):
        async with (
            open_model(provider_server, "anthropic", attempt_timeout=0.25) as model,
            model_events() as events,
        ):
            output = await model.generate("question")
    assert output.completion == "QUESTION"
    assert model.retries == 2
    assert len(events[0].retries) == 2


FATAL_FAULTS: dict[str, tuple[Fault, type[ModelError]]] = {
    "400-credit-too-low": (Fault.credit_too_low(400), QuotaExhaustedError),
    "403-credit-too-low": (Fault.credit_too_low(403), QuotaExhaustedError),
    "402": (Fault.http(402), QuotaExhaustedError),
    "401": (Fault.http(401), AuthError),
    "403": (Fault.http(403), AuthError),
    "400": (Fault.http(400), ModelRequestError),
    "413": (Fault.http(413), ModelRequestError),
}


@pytest.mark.parametrize("name", list(FATAL_FAULTS))
@pytest.mark.anyio
async def test_non_transient_fault_raises_at_once(
    provider_server: ProviderServer, open_model: ServedModel, name: str
) -> None:
    """Quota, auth and bad-request faults raise their class after a single request."""
    fault, expected = FATAL_FAULTS[name]
    provider_server.inject(fault)
    async with open_model(provider_server, "anthropic") as model:
        with pytest.raises(ModelError) as info:
            await model.generate("hi")
    assert type(info.value) is expected
    assert info.value.status_code == fault.status
    assert len(provider_server.requests) == 1


@pytest.mark.anyio
async def test_overloaded_for_good_ends_transient(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """A 529 that never clears ends in ModelTransientError once retries are spent."""
    provider_server.inject_always(Fault.overloaded())
    async with open_model(provider_server, "anthropic", max_retries=3) as model:
        with pytest.raises(ModelTransientError, match="HTTP 529 overloaded"):
            await model.generate("hi")
    assert len(provider_server.requests) == 4
    assert model.retries == 3
