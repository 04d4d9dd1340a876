"""Anthropic extended thinking: kept on the assistant message and sent back in a tool loop."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from evalkit.errors import ModelRequestError
from evalkit.model import (
    ChatMessageAssistant,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    GenerateConfig,
    ToolInfo,
    get_model,
)
from evalkit.model._providers.anthropic import content_blocks, parse_message
from evalkit.testing import ProviderServer, ToolCallReply

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")
ADD_TOOL = ToolInfo(name="add", description="Add two numbers.",
                    parameters={"type": "object", "properties": {"a": {"type": "integer"}}})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def tool_loop(server: ProviderServer, stream: bool,
                    keep_thinking: bool = True) -> tuple[ChatMessageAssistant, str]:
    """One tool call and its result under extended thinking; the first turn and the answer."""
    server.answer_next(ToolCallReply("add", {"a": 2}, id="toolu_1"), "Four.")
    model = get_model("anthropic/m", base_url=server.anthropic_base_url, stream=stream,
                      config=GenerateConfig(reasoning_tokens=1024))
    try:
        with anyio.fail_after(10):
            first = await model.generate("2+2?", tools=[ADD_TOOL])
            turn = first.message if keep_thinking else first.message.model_copy(
                update={"reasoning": None})
            result = ChatMessageTool(content="4", tool_call_id="toolu_1", function="add")
            second = await model.generate([ChatMessageUser(content="2+2?"), turn, result],
                                          tools=[ADD_TOOL])
    finally:
        await model.aclose()
    return first.message, second.completion


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.anyio
async def test_thinking_survives_a_tool_loop(provider_server: ProviderServer,
                                             stream: bool) -> None:
    """The thinking block is kept, signed, and sent back first, so the tool loop goes on."""
    first, answer = await tool_loop(provider_server, stream)
    [thought] = first.reasoning or []
    assert thought.reasoning == "The user asks: 2+2?"
    assert thought.signature and not thought.redacted
    assert first.text == "" and answer == "Four."
    sent = provider_server.requests[1].json["messages"][1]["content"]
    assert [block["type"] for block in sent] == ["thinking", "tool_use"]
    assert sent[0]["signature"] == thought.signature


@pytest.mark.anyio
async def test_the_test_server_refuses_a_tool_loop_without_thinking(
        provider_server: ProviderServer) -> None:
    """Dropping the thinking is refused as the real API refuses it (a request error)."""
    with pytest.raises(ModelRequestError, match="must start with a thinking block"):
        await tool_loop(provider_server, stream=False, keep_thinking=False)


def test_redacted_thinking_goes_back_as_it_came() -> None:
    """A redacted_thinking block is kept as redacted reasoning and returned byte for byte."""
    reply: dict[str, Any] = {"content": [
        {"type": "redacted_thinking", "data": "EncRypTed=="},
        {"type": "tool_use", "id": "t1", "name": "add", "input": {}}],
        "stop_reason": "tool_use"}
    message = parse_message(reply, "{}", "m").message
    assert message.reasoning == [ContentReasoning(reasoning="EncRypTed==", redacted=True)]
    assert content_blocks(message)[0] == {"type": "redacted_thinking", "data": "EncRypTed=="}


def test_reasoning_is_left_out_of_the_log_line_when_absent() -> None:
    """A message without thinking serialises as before (no ``reasoning`` key in the log)."""
    assert "reasoning" not in ChatMessageAssistant(content="hi").model_dump_json(
        exclude_none=True)
