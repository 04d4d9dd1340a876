"""``openai/<model>``: the Chat Completions protocol over HTTP (see ``_connection``).

Works with OpenAI and every compatible server (vLLM, Ollama, LM Studio,
OpenRouter...): point ``OPENAI_BASE_URL`` or ``--model-base-url`` at it.
One call is one attempt; ``Model`` retries what the table in
:mod:`._classify` calls transient.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .._config import GenerateConfig
from .._messages import ChatMessage, ChatMessageAssistant, ChatMessageTool, ToolCall
from .._output import ChatCompletionChoice, ModelOutput, ModelUsage, StopReason
from .._tool_info import ToolChoice, ToolFunction, ToolInfo
from ._base import HttpModelAPI
from ._classify import OPENAI_TABLE

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

    Model args (``-M``): ``api_key``, ``base_url``, ``organization``, ``project``.
    """

    provider = "OpenAI"
    env_prefix = "OPENAI"
    default_base_url = DEFAULT_BASE_URL
    path = "/chat/completions"
    reply_key = "choices"
    table = OPENAI_TABLE

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        super().__init__(model_name, base_url=base_url, api_key=api_key, config=config)
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
        return chat_request(self.model_name, input, tools, tool_choice, config)

    def parse_reply(self, data: dict[str, Any], raw: str) -> ModelOutput:
        return parse_chat_completion(data, raw, self.model_name)


def chat_request(
    model_name: str,
    messages: list[ChatMessage],
    tools: list[ToolInfo],
    tool_choice: ToolChoice | None,
    config: GenerateConfig,
) -> dict[str, Any]:
    """The JSON body of a Chat Completions request."""
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
    optional = {
        "temperature": config.temperature,
        "top_p": config.top_p,
        "stop": config.stop_seqs,
        "seed": config.seed,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


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
    """A ``ModelOutput`` from a Chat Completions reply."""
    return ModelOutput(
        model=data.get("model") or model_name,
        choices=[_parse_choice(choice) for choice in data["choices"]],
        usage=parse_usage(data.get("usage")),
        raw=raw,
    )


def _parse_choice(choice: dict[str, Any]) -> ChatCompletionChoice:
    message = choice.get("message") or {}
    calls = [
        parse_tool_call(call, index) for index, call in enumerate(message.get("tool_calls") or [])
    ]
    return ChatCompletionChoice(
        message=ChatMessageAssistant(content=_text(message.get("content")), tool_calls=calls or None),
        stop_reason=FINISH_REASONS.get(choice.get("finish_reason") or "", "unknown"),
    )


def _text(content: Any) -> str:
    """Message content as text; some compatible servers send a list of parts."""
    if content is None:
        return ""
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


def parse_tool_call(call: dict[str, Any], index: int) -> ToolCall:
    """A tool call; arguments that are not a JSON object set ``parse_error``, never raise."""
    function = call["function"]
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
        id=call.get("id") or f"call_{index}",
        function=function["name"],
        arguments=arguments if parse_error is None else {},
        parse_error=parse_error,
    )


def parse_usage(usage: Any) -> ModelUsage | None:
    if not isinstance(usage, dict):
        return None
    input_tokens = int(usage.get("prompt_tokens") or 0)
    output_tokens = int(usage.get("completion_tokens") or 0)
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    return ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=int(usage.get("total_tokens") or input_tokens + output_tokens),
        input_tokens_cache_read=prompt_details.get("cached_tokens"),
        reasoning_tokens=completion_details.get("reasoning_tokens"),
    )
