"""A streamed Chat Completions reply (``stream: true``) put back together as a whole reply.

The chunks' deltas are joined per choice (text, and tool calls by their
index); the usage comes in a last chunk (``stream_options.include_usage``).
The stream ends with ``data: [DONE]``; one that stops before it, and before
every choice has a finish reason, was cut: ``ConnectionLost``, so retried.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ._shapes import expect, optional
from ._sse import event_text
from ._transport import ConnectionLost, ServerSentEvent


@dataclass
class _ToolCallParts:
    id: str | None = None
    name: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)


@dataclass
class _ChoiceParts:
    content: list[str] = field(default_factory=list)
    calls: dict[int, _ToolCallParts] = field(default_factory=dict)
    finish_reason: str | None = None

    def add(self, choice: dict[str, Any]) -> None:
        delta = optional(choice.get("delta"), dict, "delta") or {}
        self.content.append(optional(delta.get("content"), str, "content") or "")
        for call in optional(delta.get("tool_calls"), list, "tool_calls") or []:
            call = expect(call, dict, "a tool call")
            parts = self.calls.setdefault(optional(call.get("index"), int, "index") or 0,
                                          _ToolCallParts())
            parts.id = optional(call.get("id"), str, "a tool call's id") or parts.id
            function = optional(call.get("function"), dict, "a tool call's function") or {}
            parts.name.append(optional(function.get("name"), str, "a tool call's name") or "")
            parts.arguments.append(
                optional(function.get("arguments"), str, "a tool call's arguments") or "")
        self.finish_reason = (optional(choice.get("finish_reason"), str, "finish_reason")
                              or self.finish_reason)

    def whole(self, index: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": "".join(self.content) or None}
        if self.calls:
            message["tool_calls"] = [
                {"id": parts.id, "type": "function",
                 "function": {"name": "".join(parts.name), "arguments": "".join(parts.arguments)}}
                for _, parts in sorted(self.calls.items())]
        return {"index": index, "message": message, "finish_reason": self.finish_reason}


async def assemble_chat_stream(
    events: AsyncIterator[ServerSentEvent],
) -> tuple[dict[str, Any], str]:
    """The whole reply the stream adds up to, and the raw events; ``ConnectionLost`` if cut."""
    raw: list[str] = []
    choices: dict[int, _ChoiceParts] = {}
    reply: dict[str, Any] = {"object": "chat.completion"}
    done = False
    async for event in events:
        raw.append(event_text(event))
        if done:  # read to the end, so the connection can be reused
            continue
        if event.data.strip() == "[DONE]":
            done = True
            continue
        chunk = expect(json.loads(event.data), dict, "a stream chunk")
        if "error" in chunk:  # an error reported mid-stream: classified as a whole reply's
            return chunk, "".join(raw)
        for key in ("id", "model", "usage"):
            if chunk.get(key) is not None:
                reply[key] = chunk[key]
        for choice in optional(chunk.get("choices"), list, "choices") or []:
            choice = expect(choice, dict, "a choice")
            index = optional(choice.get("index"), int, "a choice's index") or 0
            choices.setdefault(index, _ChoiceParts()).add(choice)
    finished = bool(choices) and all(parts.finish_reason for parts in choices.values())
    if not (done or finished):
        raise ConnectionLost("the event stream broke off before its end ([DONE])")
    reply["choices"] = [parts.whole(index) for index, parts in sorted(choices.items())]
    return reply, "".join(raw)
