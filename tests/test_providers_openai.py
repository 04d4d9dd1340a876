"""``openai/<model>`` against a real HTTP server on 127.0.0.1: mapping, parsing, settings."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from evalkit._transcript import ModelEvent
from evalkit.errors import (
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
from evalkit.model._providers.openai import chat_request
from evalkit.testing import Fault, ProviderServer, ToolCallReply

pytest_plugins = ["provider_fixtures"]
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries")

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
        content="", tool_calls=[ToolCall(id="c1", function="add", arguments={"a": 1})]
    ),
    ChatMessageTool(content="3", tool_call_id="c1", function="add"),
    ChatMessageTool(content="", tool_call_id="c2", function="add", error="boom"),
    ChatMessageUser(content="Thanks"),
]
WIRE_MESSAGES = [
    {"role": "system", "content": "Be terse."},
    {"role": "user", "content": "What is 1+2?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "3"},
    {"role": "tool", "tool_call_id": "c2", "content": "Error: boom"},
    {"role": "user", "content": "Thanks"},
]


@pytest.mark.anyio
async def test_request_maps_messages_tools_and_config(
    provider_server: ProviderServer, open_model: ServedModel, fake_keys: dict[str, str]
) -> None:
    """Every message kind, the tools and each generate option reach the wire as OpenAI expects."""
    config = dict(max_tokens=50, temperature=0.2, top_p=0.9, stop_seqs=["END"], seed=7)
    async with open_model(provider_server, **config) as model:
        await model.generate(CONVERSATION, tools=[ADD_TOOL], tool_choice=ToolFunction(name="add"))
    [request] = provider_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {fake_keys['openai']}"
    assert request.json == {
        "model": "test-model",
        "messages": WIRE_MESSAGES,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "add",
                    "description": "Add two numbers.",
                    "parameters": ADD_TOOL.parameters,
                },
            }
        ],
        "tool_choice": {"type": "function", "function": {"name": "add"}},
        "max_tokens": 50,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["END"],
        "seed": 7,
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        (ToolFunction(name="add"), {"type": "function", "function": {"name": "add"}}),
    ],
    ids=["auto", "none", "any", "function"],
)
def test_tool_choice_mapping(choice: ToolChoice, expected: Any) -> None:
    """tool_choice maps to OpenAI's spelling ("any" is "required")."""
    body = chat_request("m", [ChatMessageUser(content="hi")], [ADD_TOOL], choice, GenerateConfig())
    assert body["tool_choice"] == expected


def test_no_tools_means_no_tool_choice() -> None:
    """OpenAI refuses tool_choice without tools, so neither is sent."""
    body = chat_request("m", [ChatMessageUser(content="hi")], [], "auto", GenerateConfig())
    assert "tools" not in body
    assert "tool_choice" not in body


@pytest.mark.parametrize(
    ("model_name", "key"),
    [
        ("o3-mini", "max_completion_tokens"),
        ("gpt-5", "max_completion_tokens"),
        ("gpt-4o", "max_tokens"),
    ],
)
def test_reasoning_models_get_max_completion_tokens(model_name: str, key: str) -> None:
    """o-series and gpt-5 models take max_completion_tokens; others max_tokens."""
    body = chat_request(
        model_name, [ChatMessageUser(content="hi")], [], None, GenerateConfig(max_tokens=9)
    )
    assert body[key] == 9
    assert len({"max_tokens", "max_completion_tokens"} & body.keys()) == 1


@pytest.mark.anyio
async def test_reply_text_usage_and_raw(
    provider_server: ProviderServer, open_model: ServedModel, model_events: RecordedEvents
) -> None:
    """The answer, its usage and the raw reply text come back, and the event records them."""
    async with open_model(provider_server) as model, model_events() as events:
        output = await model.generate("hello big world")
    assert output.completion == "HELLO BIG WORLD"
    assert output.stop_reason == "stop"
    assert output.usage is not None
    assert (output.usage.input_tokens, output.usage.output_tokens, output.usage.total_tokens) == (
        3,
        3,
        6,
    )
    assert output.raw is not None
    assert json.loads(output.raw)["id"] == "chatcmpl-evalkit"
    assert events[0].output == "HELLO BIG WORLD"
    assert events[0].usage == {
        "input_tokens": 3,
        "output_tokens": 3,
        "total_tokens": 6,
        "input_tokens_cache_read": 0,
        "reasoning_tokens": 0,
    }
    assert model.usage.total_tokens == 6


def completion_body(
    message: dict[str, Any], finish_reason: str | None = "stop", usage: dict[str, Any] | None = None
) -> str:
    return json.dumps(
        {
            "id": "x",
            "model": "served-name",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", **message},
                    "finish_reason": finish_reason,
                }
            ],
            **({"usage": usage} if usage else {}),
        }
    )


@pytest.mark.anyio
async def test_detailed_usage(provider_server: ProviderServer, open_model: ServedModel) -> None:
    """Cached prompt tokens and reasoning tokens are read from the usage details."""
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "total_tokens": 140,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 32},
    }
    provider_server.inject(Fault.raw(200, completion_body({"content": "ok"}, usage=usage)))
    async with open_model(provider_server) as model:
        output = await model.generate("hi")
    assert output.model == "served-name"
    assert output.usage is not None
    assert output.usage.model_dump() == {
        "input_tokens": 100,
        "output_tokens": 40,
        "total_tokens": 140,
        "input_tokens_cache_read": 64,
        "reasoning_tokens": 32,
    }


@pytest.mark.parametrize(
    ("finish_reason", "expected"),
    [
        ("stop", "stop"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_calls"),
        ("function_call", "tool_calls"),
        ("content_filter", "content_filter"),
        (None, "unknown"),
        ("something_new", "unknown"),
    ],
)
@pytest.mark.anyio
async def test_finish_reason_mapping(
    provider_server: ProviderServer,
    finish_reason: str | None,
    expected: str,
    open_model: ServedModel,
) -> None:
    """Each finish_reason maps to evalkit's stop_reason."""
    provider_server.inject(Fault.raw(200, completion_body({"content": "x"}, finish_reason)))
    async with open_model(provider_server) as model:
        output = await model.generate("hi")
    assert output.stop_reason == expected


@pytest.mark.anyio
async def test_max_tokens_cut_is_reported(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """A reply cut by max_tokens ends with stop_reason max_tokens."""
    async with open_model(provider_server, max_tokens=2) as model:
        output = await model.generate("one two three four")
    assert output.completion == "ONE TWO"
    assert output.stop_reason == "max_tokens"


@pytest.mark.parametrize(
    ("arguments", "parsed", "error_phrase"),
    [
        ({"a": 1}, {"a": 1}, None),
        ('{"a": 1', {}, "not valid JSON"),
        ("[1, 2]", {}, "not a JSON object"),
    ],
    ids=["object", "bad-json", "not-object"],
)
@pytest.mark.anyio
async def test_tool_call_arguments(
    provider_server: ProviderServer,
    arguments: Any,
    parsed: dict[str, Any],
    error_phrase: str | None,
    open_model: ServedModel,
) -> None:
    """Tool call arguments are parsed; bad JSON sets parse_error instead of raising."""
    provider_server.answer_next(ToolCallReply("add", arguments, id="call_9"))
    async with open_model(provider_server) as model:
        output = await model.generate("add", tools=[ADD_TOOL])
    [call] = output.message.tool_calls or []
    assert (call.id, call.function, call.arguments) == ("call_9", "add", parsed)
    assert output.stop_reason == "tool_calls"
    if error_phrase is None:
        assert call.parse_error is None
    else:
        assert call.parse_error is not None
        assert error_phrase in call.parse_error


@pytest.mark.anyio
async def test_base_url_and_key_from_environment(
    provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch, fake_keys: dict[str, str]
) -> None:
    """OPENAI_BASE_URL and OPENAI_API_KEY are used when no argument overrides them."""
    monkeypatch.setenv("OPENAI_BASE_URL", provider_server.openai_base_url + "/")
    model = get_model("openai/env-model")
    try:
        assert (await model.generate("env")).completion == "ENV"
    finally:
        await model.aclose()
    assert provider_server.requests[0].headers["authorization"] == f"Bearer {fake_keys['openai']}"


@pytest.mark.anyio
async def test_arguments_override_environment(
    provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--model-base-url and -M api_key win over the environment."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    model = get_model(
        "openai/m",
        base_url=provider_server.openai_base_url,
        api_key="sk-from-M",
        organization="org-1",
    )
    try:
        await model.generate("hi")
    finally:
        await model.aclose()
    headers = provider_server.requests[0].headers
    assert headers["authorization"] == "Bearer sk-from-M"
    assert headers["openai-organization"] == "org-1"


@pytest.mark.anyio
async def test_local_server_needs_no_key(
    provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch, open_model: ServedModel
) -> None:
    """With a custom base URL and no key, no Authorization header is sent (vLLM, Ollama)."""
    monkeypatch.delenv("OPENAI_API_KEY")
    async with open_model(provider_server) as model:
        await model.generate("hi")
    assert "authorization" not in provider_server.requests[0].headers


@pytest.mark.parametrize(
    ("kwargs", "phrase"),
    [
        ({}, "OPENAI_API_KEY is not set"),
        ({"base_url": "localhost:8000/v1", "api_key": "k"}, "must start with http://"),
        ({"api_key": "sk-line\nbreak"}, "control or non-ASCII"),
        ({"api_key": "k", "temperature_typo": 1}, "bad model argument"),
    ],
    ids=["no-key", "no-scheme", "bad-key-chars", "unknown-arg"],
)
def test_configuration_errors_are_usage_errors(
    monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], phrase: str
) -> None:
    """Bad settings fail at once with a UsageError that says what to fix."""
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(UsageError, match=phrase) as info:
        get_model("openai/gpt-4o", **kwargs)
    assert "sk-line" not in str(info.value)
