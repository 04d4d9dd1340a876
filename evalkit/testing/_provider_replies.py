"""The replies ``ProviderServer`` sends, in each protocol: whole, as server-sent events, or errors.

Answers are deterministic: tokens are counted as words, and an answer longer
than the request's max tokens is cut to it. Streamed replies follow each
protocol's format: OpenAI's ``chat.completion.chunk`` deltas ending in
``data: [DONE]`` (a usage chunk first when ``stream_options.include_usage``
is set), and Anthropic's ``message_start`` ... ``message_stop`` sequence,
with a ``ping``.

An Anthropic request with ``thinking`` enabled gets a signed thinking block
first, and is refused (400) when an assistant turn with a tool call comes back
without its thinking unchanged, as the real API refuses it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


@dataclass(frozen=True)
class ToolCallReply:
    """An answer that calls a tool; ``arguments`` given as a string are sent verbatim."""

    name: str
    arguments: dict[str, Any] | str = field(default_factory=dict)
    id: str = "call_1"
    content: str = ""


# (error type, message) per status, shaped like the real providers' errors.
# None of these messages says quota/billing/credit: that is for the named faults.
_ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "Incorrect API key provided: {key}."),
    402: ("billing_error", "Payment required."),
    403: ("permission_error", "Your API key does not have permission to use this model."),
    404: ("not_found_error", "The model does not exist."),
    408: ("timeout_error", "Request timed out."),
    413: ("request_too_large", "Request exceeds the maximum allowed size."),
    422: ("invalid_request_error", "Unprocessable request."),
    429: ("rate_limit_error", "Rate limit reached for requests."),
    500: ("api_error", "Internal server error."),
    502: ("api_error", "Bad gateway."),
    503: ("api_error", "Service unavailable."),
    504: ("api_error", "Gateway timeout."),
    529: ("overloaded_error", "Overloaded."),
}


def error_body(path: str, status: int, message: str | None, error_type: str | None,
               key: str = "") -> dict[str, Any]:
    """An error in the protocol of ``path``; a 401 quotes the key, as OpenAI's does."""
    default_type, default_message = _ERROR_DEFAULTS.get(status, ("api_error", f"HTTP {status}"))
    error = {"type": error_type or default_type,
             "message": message or default_message.format(key=key)}
    if path == ANTHROPIC_PATH:
        return {"type": "error", "error": error}
    return {"error": {**error, "param": None, "code": error["type"]}}


def _text_of(content: Any, *, tool_results: bool = False) -> str:
    """The text of a message's content: a string, or text (and tool_result) blocks."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append(str(block.get("text", "")))
        elif kind == "tool_result" and tool_results:
            parts.append(_text_of(block.get("content"), tool_results=True))
    return "\n".join(parts)


def last_user_text(messages: list[Any]) -> str:
    """The text of the last user message that has text (tool results are skipped)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text_of(message.get("content"))
            if text:
                return text
    return ""


def _prompt_words(body: dict[str, Any]) -> int:
    """Input tokens, counted as words of every message and the system prompt."""
    texts = [_text_of(message.get("content"), tool_results=True)
             for message in body["messages"] if isinstance(message, dict)]
    texts.append(_text_of(body.get("system")))
    return sum(len(text.split()) for text in texts)


def _answer_text(body: dict[str, Any], reply: str | ToolCallReply) -> tuple[str, bool]:
    """The reply's text cut to the request's max tokens (words), and whether it was cut."""
    text = reply.content if isinstance(reply, ToolCallReply) else reply
    limit = body.get("max_tokens") or body.get("max_completion_tokens")
    words = text.split()
    if isinstance(reply, ToolCallReply) or not isinstance(limit, int) or len(words) <= limit:
        return text, False
    return " ".join(words[:limit]), True


def openai_reply(body: dict[str, Any], reply: str | ToolCallReply) -> dict[str, Any]:
    text, cut = _answer_text(body, reply)
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "length" if cut else "stop"
    if isinstance(reply, ToolCallReply):
        arguments = reply.arguments
        message["content"] = text or None
        message["tool_calls"] = [{"id": reply.id, "type": "function", "function": {
            "name": reply.name,
            "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments)}}]
        finish = "tool_calls"
    prompt, completion = _prompt_words(body), max(1, len(text.split()))
    return {
        "id": "chatcmpl-evalkit", "object": "chat.completion", "created": 0,
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0}},
    }


def _thinks(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") == "enabled"


def _signature(thinking: str) -> str:
    return hashlib.sha256(b"evalkit-test-server:" + thinking.encode()).hexdigest()[:32]


def anthropic_request_problem(body: dict[str, Any]) -> str | None:
    """Why the API would refuse ``body``'s tool loop under extended thinking, or None.

    The last assistant turn that calls a tool must start with its thinking block,
    signature intact.
    """
    assistant = [message for message in body["messages"]
                 if isinstance(message, dict) and message.get("role") == "assistant"]
    blocks = assistant[-1].get("content") if assistant and _thinks(body) else None
    if not isinstance(blocks, list) or not any(
            isinstance(block, dict) and block.get("type") == "tool_use" for block in blocks):
        return None
    first = blocks[0] if isinstance(blocks[0], dict) else {}
    if first.get("type") == "redacted_thinking":
        return None
    if first.get("type") != "thinking":
        return ("messages: an assistant message with tool_use must start with a thinking "
                f"block when thinking is enabled, but found `{first.get('type')}`")
    if first.get("signature") != _signature(str(first.get("thinking"))):
        return "messages: invalid signature in thinking block"
    return None


def anthropic_reply(body: dict[str, Any], reply: str | ToolCallReply) -> dict[str, Any]:
    text, cut = _answer_text(body, reply)
    content: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
    if _thinks(body):
        thought = f"The user asks: {last_user_text(body['messages'])}"
        content.insert(0, {"type": "thinking", "thinking": thought,
                           "signature": _signature(thought)})
    stop_reason = "max_tokens" if cut else "end_turn"
    if isinstance(reply, ToolCallReply):
        content.append({"type": "tool_use", "id": reply.id, "name": reply.name,
                        "input": reply.arguments})
        stop_reason = "tool_use"
    return {
        "id": "msg_evalkit", "type": "message", "role": "assistant",
        "model": body.get("model"), "content": content,
        "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": _prompt_words(body),
                  "output_tokens": max(1, len(text.split())),
                  "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0},
    }


def stream_events(path: str, body: dict[str, Any], reply: dict[str, Any]) -> list[bytes]:
    """The server-sent events of ``reply`` streamed in the protocol of ``path``."""
    if path == ANTHROPIC_PATH:
        return anthropic_events(reply)
    options = body.get("stream_options")
    return openai_events(reply, isinstance(options, dict) and options.get("include_usage") is True)


def _event(data: Any, name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    text = data if isinstance(data, str) else json.dumps(data)
    return f"{head}data: {text}\n\n".encode()


def _pieces(text: str) -> list[str]:
    """``text`` in word-sized pieces (spaces kept), so a client must join several deltas."""
    pieces, start = [], 0
    for index, char in enumerate(text):
        if char == " ":
            pieces.append(text[start:index + 1])
            start = index + 1
    return [*pieces, text[start:]] if start < len(text) else pieces


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [part for part in (text[:middle], text[middle:]) if part]


def openai_events(reply: dict[str, Any], include_usage: bool) -> list[bytes]:
    """The chunks of a streamed Chat Completions reply equal to ``reply``."""
    base = {"id": reply["id"], "object": "chat.completion.chunk", "created": 0,
            "model": reply["model"]}
    [choice] = reply["choices"]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return _event({**base, "choices": [{"index": 0, "delta": delta,
                                            "finish_reason": finish}]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in _pieces(message.get("content") or "")]
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call["function"]
        events.append(chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                             "function": {"name": function["name"],
                                                          "arguments": ""}}]}))
        events += [chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
                   for part in _halves(function["arguments"])]
    events.append(chunk({}, choice["finish_reason"]))
    if include_usage:
        events.append(_event({**base, "choices": [], "usage": reply["usage"]}))
    return [*events, _event("[DONE]")]


def anthropic_events(reply: dict[str, Any]) -> list[bytes]:
    """The events of a streamed Messages reply equal to ``reply``."""
    usage = reply["usage"]
    start = {**reply, "content": [], "stop_reason": None,
             "usage": {**usage, "output_tokens": 1}}
    events = [_event({"type": "message_start", "message": start}, "message_start"),
              _event({"type": "ping"}, "ping")]
    for index, block in enumerate(reply["content"]):
        opening: dict[str, Any]
        deltas: list[dict[str, Any]]
        if block["type"] == "text":
            opening, deltas = {"type": "text", "text": ""}, [
                {"type": "text_delta", "text": piece} for piece in _pieces(block["text"])]
        elif block["type"] == "thinking":
            opening = {"type": "thinking", "thinking": ""}
            deltas = [*({"type": "thinking_delta", "thinking": piece}
                        for piece in _pieces(block["thinking"])),
                      {"type": "signature_delta", "signature": block["signature"]}]
        else:
            opening = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": part}
                      for part in _halves(json.dumps(block["input"]))]
        events.append(_event({"type": "content_block_start", "index": index,
                              "content_block": opening}, "content_block_start"))
        events += [_event({"type": "content_block_delta", "index": index, "delta": delta},
                          "content_block_delta") for delta in deltas]
        events.append(_event({"type": "content_block_stop", "index": index},
                             "content_block_stop"))
    events.append(_event({"type": "message_delta",
                          "delta": {"stop_reason": reply["stop_reason"], "stop_sequence": None},
                          "usage": {"output_tokens": usage["output_tokens"]}}, "message_delta"))
    return [*events, _event({"type": "message_stop"}, "message_stop")]
