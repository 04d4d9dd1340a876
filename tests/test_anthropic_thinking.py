"""Anthropic extended thinking: kept on the assistant message and sent back in a tool loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import ModelRequestError
from evalkit.log import read_eval_log_samples
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
from evalkit.scorer import includes
from evalkit.solver import basic_agent, react
from evalkit.testing import ProviderServer, ToolCallReply
from evalkit.tool import tool

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


@tool
def add():  # type: ignore[no-untyped-def]
    async def execute(a: int) -> str:
        """Add two to a number.

        Args:
            a: the number.
        """
        return str(a + 2)

    return execute


@pytest.mark.parametrize("agent", ["react", "basic_agent"])
def test_thinking_survives_an_agent_loop_into_the_log(provider_server: ProviderServer,
                                                      tmp_path: Path, agent: str) -> None:
    """react/basic_agent send each turn's thinking back and the log keeps it."""
    provider_server.answer_next(ToolCallReply("add", {"a": 2}, id="toolu_1"),
                                ToolCallReply("submit", {"answer": "4"}, id="toolu_2"))
    solver = react(tools=[add()]) if agent == "react" else basic_agent(tools=[add()])
    task = Task(dataset=[Sample(input="2+2?", target="4")], solver=solver, scorer=includes())
    [log] = eval(task, model="anthropic/m", model_base_url=provider_server.anthropic_base_url,
                 reasoning_tokens=1024, log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    [sample] = read_eval_log_samples(log.location)
    assert sample.error is None, sample.error
    turns = [m for m in sample.messages if isinstance(m, ChatMessageAssistant)]
    assert len(turns) == 2 and all(m.reasoning for m in turns)
