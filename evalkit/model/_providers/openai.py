"""``openai/<model>``: the Chat Completions protocol over HTTP (see ``_transport``).

Works with OpenAI and every compatible server (vLLM, Ollama, LM Studio,
OpenRouter...): point ``OPENAI_BASE_URL`` or ``--model-base-url`` at it.
One call is one attempt; ``Model`` retries what the table in
:mod:`._classify` calls transient. Replies are read strictly (``_shapes``).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from .._config import GenerateConfig, ResponseSchema
from .._messages import ChatMessage, ChatMessageAssistant, ChatMessageTool, ToolCall
from .._output import ChatCompletionChoice, ModelOutput, ModelUsage, StopReason
from .._tool_info import ToolChoice, ToolFunction, ToolInfo
from ._base import HttpModelAPI, StreamSetting
from ._classify import OPENAI_TABLE
from ._openai_stream import assemble_chat_stream
from ._shapes import expect, optional
from ._transport import ServerSentEvent, Transport
from ._unsupported import warn_unsupported

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# OpenAI's reasoning models refuse ``max_tokens`` and take ``max_completion_tokens``.
_COMPLETION_TOKENS_MODELS = re.compile(r"^(o\d|gpt-5)")

FINISH_REASONS: dict[str, StopReason] = {
    "stop": "stop",
    "length": "max_tokens",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


class OpenAIAPI(HttpModelAPI):
    """Chat Completions at ``{base_url}/chat/completions``.

    Model args (``-M``): ``api_key``, ``base_url``, ``organization``, ``project``,
    ``stream`` (true, false or auto); from Python also ``transport``.
    """

    provider = "OpenAI"
    env_prefix = "OPENAI"
    default_base_url = DEFAULT_BASE_URL
    path = "/chat/completions"
    reply_key = "choices"
    table = OPENAI_TABLE
    sends_top_k: ClassVar[bool] = False
    """Whether the server takes ``top_k`` (OpenAI does not; vLLM, Together... do)."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        organization: str | None = None,
        project: str | None = None,
        transport: Transport | None = None,
        stream: StreamSetting | str = "auto",
    ) -> None:
        super().__init__(model_name, base_url=base_url, api_key=api_key, config=config,
                         transport=transport, stream=stream)
        if organization:
            self._headers["openai-organization"] = organization
        if project:
            self._headers["openai-project"] = project

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def request_body(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> dict[str, Any]:
        return chat_request(self.model_name, input, tools, tool_choice, config,
                            provider=self.provider, sends_top_k=self.sends_top_k)

    def parse_reply(self, data: dict[str, Any], raw: str) -> ModelOutput:
        return parse_chat_completion(data, raw, self.model_name)

    def streaming_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**body, "stream": True, "stream_options": {"include_usage": True}}

    async def assemble_stream(
        self, events: AsyncIterator[ServerSentEvent]
    ) -> tuple[dict[str, Any], str]:
        return await assemble_chat_stream(events)


def chat_request(
    model_name: str,
    messages: list[ChatMessage],
    tools: list[ToolInfo],
    tool_choice: ToolChoice | None,
    config: GenerateConfig,
    *,
    provider: str = "OpenAI",
    sends_top_k: bool = False,
) -> dict[str, Any]:
    """The JSON body of a Chat Completions request. ``top_k`` is sent only where the
    server takes it (``sends_top_k``: vLLM, Together...); OpenAI itself has none."""
    body: dict[str, Any] = {
        "model": model_name,
        "messages": [openai_message(message) for message in messages],
    }
    if tools:
        body["tools"] = [openai_tool(tool) for tool in tools]
        # OpenAI refuses a tool_choice sent without tools.
        if tool_choice is not None:
            body["tool_choice"] = openai_tool_choice(tool_choice)
    if config.max_tokens is not None:
        uses_completion_tokens = _COMPLETION_TOKENS_MODELS.match(model_name)
        body["max_completion_tokens" if uses_completion_tokens else "max_tokens"] = (
            config.max_tokens
        )
    body.update(_sampling_options(config, sends_top_k))
    if config.response_schema is not None:
        body["response_format"] = openai_response_format(config.response_schema)
    warn_unsupported(provider, config, ["reasoning_tokens"],
                     "the Chat Completions protocol takes reasoning_effort instead")
    if not sends_top_k:
        warn_unsupported(provider, config, ["top_k"], "its API has no top_k")
    return body


def _sampling_options(config: GenerateConfig, sends_top_k: bool) -> dict[str, Any]:
    # top_logprobs is refused unless logprobs is on, so asking for one turns on the other.
    logprobs = config.logprobs
    if config.top_logprobs is not None and logprobs is None:
        logprobs = True
    options = {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "top_k": config.top_k if sends_top_k else None,
        "stop": config.stop_seqs,
        "seed": config.seed,
        "frequency_penalty": config.frequency_penalty,
        "presence_penalty": config.presence_penalty,
        "logprobs": logprobs,
        "top_logprobs": config.top_logprobs,
        "n": config.num_choices,
        "reasoning_effort": config.reasoning_effort,
    }
    return {key: value for key, value in options.items() if value is not None}


def openai_response_format(schema: ResponseSchema) -> dict[str, Any]:
    """Structured output: ``response_format`` of type ``json_schema``."""
    json_schema: dict[str, Any] = {"name": schema.name, "schema": schema.json_schema}
    if schema.description is not None:
        json_schema["description"] = schema.description
    if schema.strict is not None:
        json_schema["strict"] = schema.strict
    return {"type": "json_schema", "json_schema": json_schema}


def openai_message(message: ChatMessage) -> dict[str, Any]:
    if isinstance(message, ChatMessageTool):
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id,
            "content": tool_result_text(message),
        }
    if isinstance(message, ChatMessageAssistant) and message.tool_calls:
        return {
            "role": "assistant",
            "content": message.content or None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function, "arguments": json.dumps(call.arguments)},
                }
                for call in message.tool_calls
            ],
        }
    return {"role": message.role, "content": message.content}


def tool_result_text(message: ChatMessageTool) -> str:
    """What the model reads of a tool's result: its output, then the error if it failed."""
    if message.error is None:
        return message.content
    return f"{message.content}\n\nError: {message.error}".strip()


def openai_tool(tool: ToolInfo) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def openai_tool_choice(choice: ToolChoice) -> str | dict[str, Any]:
    if isinstance(choice, ToolFunction):
        return {"type": "function", "function": {"name": choice.name}}
    return "required" if choice == "any" else choice


def parse_chat_completion(data: dict[str, Any], raw: str, model_name: str) -> ModelOutput:
    """A ``ModelOutput`` from a Chat Completions reply; TypeError if it breaks the protocol."""
    choices = expect(data["choices"], list, "choices")
    return ModelOutput(
        model=optional(data.get("model"), str, "model") or model_name,
        choices=[_parse_choice(expect(choice, dict, "a choice")) for choice in choices],
        usage=parse_usage(data.get("usage")),
        raw=raw,
    )


def _parse_choice(choice: dict[str, Any]) -> ChatCompletionChoice:
    message = optional(choice.get("message"), dict, "message") or {}
    calls = [
        parse_tool_call(expect(call, dict, "a tool call"), index)
        for index, call in enumerate(optional(message.get("tool_calls"), list, "tool_calls") or [])
    ]
    finish_reason = optional(choice.get("finish_reason"), str, "finish_reason")
    return ChatCompletionChoice(
        message=ChatMessageAssistant(content=_text(message.get("content")), tool_calls=calls or None),
        stop_reason=FINISH_REASONS.get(finish_reason or "", "unknown"),
    )


def _text(content: Any) -> str:
    """Message content as text; some compatible servers send a list of parts."""
    if isinstance(content, list):
        parts = [expect(part, dict, "a content part") for part in content]
        return "".join(optional(part.get("text"), str, "a content part's text") or ""
                       for part in parts)
    return optional(content, str, "content") or ""


def parse_tool_call(call: dict[str, Any], index: int) -> ToolCall:
    """A tool call; arguments that are not a JSON object set ``parse_error``, never raise."""
    function = expect(call["function"], dict, "a tool call's function")
    arguments: Any = function.get("arguments") or "{}"
    parse_error = None
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:
            parse_error = f"tool arguments are not valid JSON ({exc}): {arguments[:200]}"
    if parse_error is None and not isinstance(arguments, dict):
        parse_error = f"tool arguments are not a JSON object: {str(arguments)[:200]}"
    return ToolCall(
        id=optional(call.get("id"), str, "a tool call's id") or f"call_{index}",
        function=expect(function["name"], str, "a tool call's name"),
        arguments=arguments if parse_error is None else {},
        parse_error=parse_error,
    )


def parse_usage(usage: Any) -> ModelUsage | None:
    if usage is None:
        return None
    usage = expect(usage, dict, "usage")
    input_tokens = optional(usage.get("prompt_tokens"), int, "prompt_tokens") or 0
    output_tokens = optional(usage.get("completion_tokens"), int, "completion_tokens") or 0
    prompt_details = optional(usage.get("prompt_tokens_details"), dict, "prompt_tokens_details")
    completion_details = optional(usage.get("completion_tokens_details"), dict,
                                  "completion_tokens_details")
    return ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=optional(usage.get("total_tokens"), int, "total_tokens")
        or input_tokens + output_tokens,
        input_tokens_cache_read=optional((prompt_details or {}).get("cached_tokens"), int,
                                         "cached_tokens"),
        reasoning_tokens=optional((completion_details or {}).get("reasoning_tokens"), int,
                                  "reasoning_tokens"),
    )
