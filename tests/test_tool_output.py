"""Truncation of tool output to MAX_TOOL_OUTPUT."""

from __future__ import annotations

from evalkit.tool import MAX_TOOL_OUTPUT
from evalkit.tool._output import OutputBuffer, truncate_output


def test_short_output_unchanged() -> None:
    """Output within the limit comes back as it was."""
    text = "a" * MAX_TOOL_OUTPUT
    assert truncate_output(text) == text


def test_long_output_keeps_head_and_tail_with_count() -> None:
    """Longer output keeps its start and end, and the marker counts the bytes cut."""
    text = "start" + "x" * 50_000 + "end"
    cut = truncate_output(text, limit=1000)
    head, _, tail = cut.partition("\n[output truncated: ")
    omitted = int(tail.split(" bytes omitted]\n")[0])
    assert head.startswith("start")
    assert tail.endswith("end")
    kept = len(head) + len(tail.split(" bytes omitted]\n")[1])
    assert omitted == len(text) - kept
    assert len(cut.encode()) <= 1000


def test_truncation_is_idempotent() -> None:
    """Cutting already-cut output changes nothing."""
    once = truncate_output("é" * 40_000)
    assert truncate_output(once) == once
    assert len(once.encode()) <= MAX_TOOL_OUTPUT


def test_buffer_fed_in_chunks_matches_whole() -> None:
    """A stream fed in small chunks is cut exactly like the whole text."""
    data = bytes(range(48, 58)) * 3000
    buffer = OutputBuffer(limit=500)
    for start in range(0, len(data), 7):
        buffer.feed(data[start : start + 7])
    assert buffer.total == len(data)
    assert buffer.text() == truncate_output(data.decode(), limit=500)


def test_buffer_just_over_head_keeps_everything() -> None:
    """Output between the kept size and the limit is not cut."""
    data = b"y" * 990
    buffer = OutputBuffer(limit=1000)
    buffer.feed(data[:600])
    buffer.feed(data[600:])
    assert buffer.text() == data.decode()
