"""A streamed Messages reply (``stream: true``) put back together as a whole reply.

``message_start`` carries the message (id, model, input usage);
``content_block_start`` / ``_delta`` / ``_stop`` build each content block
(text deltas joined, a tool's ``partial_json`` joined then decoded, thinking
deltas joined and its ``signature_delta`` kept);
``message_delta`` carries the stop reason and output usage; ``message_stop``
ends it. An ``error`` event is returned as an error reply, to be classified
like one; a stream that ends before ``message_stop`` was cut:
``ConnectionLost``, so retried.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from ._shapes import expect, optional
from ._sse import event_text
from ._transport import ConnectionLost, ServerSentEvent

ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
"""The HTTP status an error event would have had, so the status table classifies it."""


_DELTA_KEYS = {"text_delta": "text", "input_json_delta": "partial_json",
               "thinking_delta": "thinking"}
"""Each delta type that adds text to its block, and the field holding that text."""


class _Message:
    def __init__(self) -> None:
        self.reply: dict[str, Any] = {}
        self.blocks: dict[int, dict[str, Any]] = {}
        self.parts: dict[int, list[str]] = {}

    def start(self, data: dict[str, Any]) -> None:
        self.reply = dict(expect(data.get("message"), dict, "message_start's message"))
        self.reply["usage"] = dict(optional(self.reply.get("usage"), dict, "usage") or {})

    def start_block(self, data: dict[str, Any]) -> None:
        index = expect(data.get("index"), int, "a block's index")
        self.blocks[index] = dict(expect(data.get("content_block"), dict, "content_block"))
        self.parts[index] = []

    def delta(self, data: dict[str, Any]) -> None:
        index = expect(data.get("index"), int, "a block's index")
        delta = expect(data.get("delta"), dict, "a block's delta")
        kind = delta.get("type")
        if kind in _DELTA_KEYS:
            key = _DELTA_KEYS[kind]
            self.parts[index].append(expect(delta.get(key), str, f"a {kind}'s {key}"))
        elif kind == "signature_delta":
            signature = expect(delta.get("signature"), str, "a signature_delta's signature")
            self.blocks[index]["signature"] = signature

    def stop_block(self, data: dict[str, Any]) -> None:
        index = expect(data.get("index"), int, "a block's index")
        block, text = self.blocks[index], "".join(self.parts[index])
        if block.get("type") in ("text", "thinking"):
            key = str(block["type"])
            block[key] = expect(block.get(key, ""), str, f"a {key} block's {key}") + text
        elif block.get("type") == "tool_use" and text:
            try:
                block["input"] = json.loads(text)
            except ValueError:
                block["input"] = text  # not an object: the tool call records a parse error

    def message_delta(self, data: dict[str, Any]) -> None:
        delta = optional(data.get("delta"), dict, "message_delta's delta") or {}
        self.reply.update({key: value for key, value in delta.items() if value is not None})
        usage = optional(data.get("usage"), dict, "message_delta's usage") or {}
        self.reply["usage"].update({key: value for key, value in usage.items()
                                    if value is not None})

    def whole(self) -> dict[str, Any]:
        return {**self.reply, "content": [block for _, block in sorted(self.blocks.items())]}


async def assemble_message_stream(
    events: AsyncIterator[ServerSentEvent],
) -> tuple[dict[str, Any], str]:
    """The whole reply the stream adds up to, and the raw events; ``ConnectionLost`` if cut."""
    raw: list[str] = []
    message = _Message()
    handlers = {"message_start": message.start, "content_block_start": message.start_block,
                "content_block_delta": message.delta, "content_block_stop": message.stop_block,
                "message_delta": message.message_delta}
    stopped = False
    async for event in events:
        raw.append(event_text(event))
        if stopped or event.event == "ping":  # after the end: read on, so the connection is reused
            continue
        data = expect(json.loads(event.data), dict, f"a {event.event} event")
        if event.event == "message_stop":
            stopped = True
            continue
        if event.event == "error":
            error = optional(data.get("error"), dict, "an error event's error") or {}
            code = ERROR_STATUS.get(str(error.get("type")), 500)
            return {"error": {**error, "code": code}}, "".join(raw)
        if event.event in handlers:
            handlers[event.event](data)
    if not stopped:
        raise ConnectionLost("the event stream broke off before its end (message_stop)")
    return message.whole(), "".join(raw)
