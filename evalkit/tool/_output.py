"""Tool output cut to a size a model's context can take."""

from __future__ import annotations

MAX_TOOL_OUTPUT = 16 * 1024
"""Bytes (UTF-8) of a tool's result the model sees; the middle of longer output is cut."""

# Room left for the marker, so a cut result stays within the limit and cutting
# it again changes nothing.
_MARKER_ROOM = 128


class OutputBuffer:
    """The head and tail of a byte stream, at most ``limit`` bytes kept in memory.

    Output past the limit loses its middle: the start shows what ran, the end
    shows how it finished (a traceback, a summary).
    """

    def __init__(self, limit: int = MAX_TOOL_OUTPUT) -> None:
        self.limit = limit
        self.total = 0
        kept = max(limit - _MARKER_ROOM, 0)
        self._head_size = kept // 2
        self._tail_size = kept - self._head_size
        self._head = bytearray()
        self._tail = bytearray()

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self._head_size - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        # Until the end is known, keep enough tail to return everything if
        # the total stays within the limit.
        excess = len(self._tail) - (self.limit - self._head_size)
        if excess > 0:
            del self._tail[:excess]

    def text(self) -> str:
        if self.total <= self.limit:
            return (self._head + self._tail).decode("utf-8", errors="replace")
        tail = self._tail[len(self._tail) - self._tail_size :]
        omitted = self.total - len(self._head) - len(tail)
        return (
            self._head.decode("utf-8", errors="replace")
            + f"\n[output truncated: {omitted} bytes omitted]\n"
            + tail.decode("utf-8", errors="replace")
        )


def truncate_output(text: str, limit: int = MAX_TOOL_OUTPUT) -> str:
    """``text`` if it fits in ``limit`` UTF-8 bytes, else its head and tail with a marker."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    buffer = OutputBuffer(limit)
    buffer.feed(data)
    return buffer.text()
