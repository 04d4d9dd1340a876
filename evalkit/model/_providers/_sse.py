"""Server-sent events (``text/event-stream``) decoded from chunks of bytes as they arrive.

Follows the WHATWG rules providers rely on: lines end in CR, LF or CRLF; a
blank line ends an event; ``data:`` lines join with newlines; lines starting
with ``:`` are comments (keep-alive pings); an event with no data is not
dispatched. ``id:`` and ``retry:`` are read past: no provider reconnects.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterable, AsyncIterator

from ._transport import ServerSentEvent

_LINE_END = re.compile(r"\r\n|\r|\n")


class EventDecoder:
    """Feed it text as it arrives; it returns each event completed by that text."""

    def __init__(self) -> None:
        self._pending = ""
        self._after_cr = False
        self._event = ""
        self._data: list[str] = []

    def feed(self, text: str) -> list[ServerSentEvent]:
        if self._after_cr and text.startswith("\n"):
            text = text[1:]  # the LF of a CRLF split across two chunks
        self._after_cr = text.endswith("\r")
        lines = _LINE_END.split(self._pending + text)
        self._pending = lines.pop()  # not ended yet
        events = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            if not self._data:
                self._event = ""
                return None
            event = ServerSentEvent(self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


async def decode_events(chunks: AsyncIterable[bytes]) -> AsyncIterator[ServerSentEvent]:
    """The events in a stream of byte chunks (UTF-8, split anywhere).

    An event cut off by the end of the stream is dropped, as the standard says:
    the caller notices the missing end of the reply.
    """
    text = codecs.getincrementaldecoder("utf-8")(errors="replace")
    decoder = EventDecoder()
    async for chunk in chunks:
        for event in decoder.feed(text.decode(chunk)):
            yield event
    for event in decoder.feed(text.decode(b"", final=True)):
        yield event


def event_text(event: ServerSentEvent) -> str:
    """``event`` written back in the stream's own form (what a model event records as raw)."""
    name = "" if event.event == "message" else f"event: {event.event}\n"
    data = "".join(f"data: {line}\n" for line in event.data.split("\n"))
    return f"{name}{data}\n"
