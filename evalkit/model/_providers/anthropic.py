"""``anthropic/<model>``: the Anthropic Messages protocol over HTTP (see ``_transport``).

One call is one attempt; ``Model`` retries what the table in
:mod:`._classify` calls transient. Replies are read strictly (``_shapes``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .._config import GenerateConfig
from .._messages import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ContentReasoning,
    ToolCall,
)
from .._output import ChatCompletionChoice, ModelOutput, ModelUsage, StopReason
from .._tool_info import ToolChoice, ToolFunction, ToolInfo
from ._anthropic_stream import assemble_message_stream
from ._base import HttpModelAPI
from ._classify import ANTHROPIC_TABLE
from ._shapes import expect, optional
from ._transport import ServerSentEvent
from ._unsupported import warn_unsupported

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096
"""The Messages API requires max_tokens; used when the config sets none."""

STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "max_tokens",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


class AnthropicAPI(HttpModelAPI):
    """The Messages API at ``{base_url}/v1/messages``.

    Model args (``-M``): ``api_key``, ``base_url``, ``stream`` (true, false or auto); from
    Python also ``transport``.
    """

    provider = "Anthropic"
    env_prefix = "ANTHROPIC"
    default_base_url = DEFAULT_BASE_URL
    path = "/v1/messages"
    reply_key = "content"
    table = ANTHROPIC_TABLE
    headers = {"anthropic-version": ANTHROPIC_VERSION}  # noqa: RUF012  # read-only

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key}

    def request_body(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> dict[str, Any]:
        return messages_request(self.model_name, input, tools, tool_choice, config)

    def parse_reply(self, data: dict[str, Any], raw: str) -> ModelOutput:
        return parse_message(data, raw, self.model_name)

    def streaming_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "stream": True}

    async def assemble_stream(
        self, events: AsyncIterator[ServerSentEvent]
    ) -> tuple[dict[str, Any], str]:
        return await assemble_message_stream(events)


def messages_request(
    model_name: str,
    messages: list[ChatMessage],
    tools: list[ToolInfo],
    tool_choice: ToolChoice | None,
    config: GenerateConfig,
) -> dict[str, Any]:
    """The JSON body of a Messages request.

    ``reasoning_tokens`` turns on extended thinking with that budget; the budget is
    added to ``max_tokens``, which Anthropic counts thinking against, so the answer
    keeps the room it was given. Fields the API has no equivalent for are not sent
    (one warning each, see ``_unsupported``).
    """
    system, turns = anthropic_messages(messages)
    max_tokens = config.max_tokens or DEFAULT_MAX_TOKENS
    body: dict[str, Any] = {"model": model_name, "max_tokens": max_tokens, "messages": turns}
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [
            {"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
            for tool in tools
        ]
        if tool_choice is not None:
            body["tool_choice"] = anthropic_tool_choice(tool_choice)
    thinking = config.reasoning_tokens is not None
    if thinking:
        body["thinking"] = {"type": "enabled", "budget_tokens": config.reasoning_tokens}
        body["max_tokens"] = max_tokens + (config.reasoning_tokens or 0)
        # The API refuses sampling changes while the model thinks.
        warn_unsupported("Anthropic", config, ["temperature", "top_k"],
                         "it is not allowed with extended thinking (reasoning_tokens)")
    optional = {
        "temperature": None if thinking else config.temperature,
        "top_p": config.top_p,
        "top_k": None if thinking else config.top_k,
        "stop_sequences": config.stop_seqs,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    warn_unsupported("Anthropic", config, UNSUPPORTED)
    warn_unsupported("Anthropic", config, ["reasoning_effort"],
                     "it takes a thinking budget instead: set reasoning_tokens")
    return body


UNSUPPORTED = ("seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs",
               "num_choices", "response_schema")
"""``GenerateConfig`` fields the Messages API has no equivalent for."""


def anthropic_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt, split out, and the conversation as alternating turns.

    Tool results travel in user turns, so consecutive tool messages (and a
    user message right after them) merge into one user turn.
    """
    system_parts: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, ChatMessageSystem):
            system_parts.append(message.content)
            continue
        role = "assistant" if isinstance(message, ChatMessageAssistant) else "user"
        blocks = content_blocks(message)
        if role == "user" and turns and turns[-1]["role"] == "user":
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return "\n\n".join(system_parts), turns


def content_blocks(message: ChatMessage) -> list[dict[str, Any]]:
    if isinstance(message, ChatMessageTool):
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": message.tool_call_id,
            "content": "\n\n".join(part for part in (message.content, message.error) if part),
        }
        if message.error is not None:
            block["is_error"] = True
        return [block]
    blocks: list[dict[str, Any]] = []
    calls = message.tool_calls if isinstance(message, ChatMessageAssistant) else None
    if isinstance(message, ChatMessageAssistant):
        # Thinking goes back first and unchanged: the API checks its signature.
        blocks.extend(thinking_block(part) for part in message.reasoning or [])
    # The API refuses empty text blocks, except as a message's only content.
    if message.content or not calls:
        blocks.append({"type": "text", "text": message.content})
    for call in calls or []:
        blocks.append(
            {"type": "tool_use", "id": call.id, "name": call.function, "input": call.arguments}
        )
    return blocks


def thinking_block(part: ContentReasoning) -> dict[str, Any]:
    if part.redacted:
        return {"type": "redacted_thinking", "data": part.reasoning}
    return {"type": "thinking", "thinking": part.reasoning, "signature": part.signature or ""}


def parse_thinking(block: dict[str, Any]) -> ContentReasoning:
    """A thinking or redacted_thinking block, kept whole so it can be sent back."""
    if block.get("type") == "redacted_thinking":
        return ContentReasoning(reasoning=expect(block.get("data"), str, "redacted thinking's data"),
                                redacted=True)
    return ContentReasoning(
        reasoning=expect(block.get("thinking"), str, "a thinking block's thinking"),
        signature=optional(block.get("signature"), str, "a thinking block's signature"),
    )


def anthropic_tool_choice(choice: ToolChoice) -> dict[str, Any]:
    if isinstance(choice, ToolFunction):
        return {"type": "tool", "name": choice.name}
    return {"type": choice}


def parse_message(data: dict[str, Any], raw: str, model_name: str) -> ModelOutput:
    """A ``ModelOutput`` from a Messages reply (thinking kept apart from the text);
    TypeError if it breaks the protocol."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[ContentReasoning] = []
    for block in expect(data["content"], list, "content"):
        block = expect(block, dict, "a content block")
        if block.get("type") == "text":
            texts.append(expect(block.get("text"), str, "a text block's text"))
        elif block.get("type") == "tool_use":
            calls.append(parse_tool_use(block))
        elif block.get("type") in ("thinking", "redacted_thinking"):
            thinking.append(parse_thinking(block))
    message = ChatMessageAssistant(content="".join(texts), tool_calls=calls or None,
                                   reasoning=thinking or None)
    stop_reason = optional(data.get("stop_reason"), str, "stop_reason")
    return ModelOutput(
        model=optional(data.get("model"), str, "model") or model_name,
        choices=[ChatCompletionChoice(message=message,
                                      stop_reason=STOP_REASONS.get(stop_reason or "", "unknown"))],
        usage=parse_usage(data.get("usage")),
        raw=raw,
    )


def parse_tool_use(block: dict[str, Any]) -> ToolCall:
    """A tool call; an ``input`` that is not an object sets ``parse_error``, never raises."""
    arguments = block.get("input")
    parse_error = None
    if not isinstance(arguments, dict):
        parse_error = f"tool input is not a JSON object: {str(arguments)[:200]}"
    return ToolCall(
        id=expect(block.get("id"), str, "a tool_use block's id"),
        function=expect(block.get("name"), str, "a tool_use block's name"),
        arguments=arguments if isinstance(arguments, dict) else {},
        parse_error=parse_error,
    )


def parse_usage(usage: Any) -> ModelUsage | None:
    """Usage with ``input_tokens`` counting every prompt token, cached or not.

    Anthropic reports cache reads and writes apart from ``input_tokens``;
    they are added in so ``input_tokens`` means the same as OpenAI's
    ``prompt_tokens`` (of which ``input_tokens_cache_read`` is a part).
    """
    if usage is None:
        return None
    usage = expect(usage, dict, "usage")
    cache_read = optional(usage.get("cache_read_input_tokens"), int, "cache_read_input_tokens")
    input_tokens = (
        (optional(usage.get("input_tokens"), int, "input_tokens") or 0)
        + (cache_read or 0)
        + (optional(usage.get("cache_creation_input_tokens"), int,
                    "cache_creation_input_tokens") or 0)
    )
    output_tokens = optional(usage.get("output_tokens"), int, "output_tokens") or 0
    return ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        input_tokens_cache_read=cache_read,
    )
