"""Finding one sample's line in a log without splitting every line.

A finished log ends with an index of its sample frames (evalkit/log/_index.py),
each a zstd frame of a few MB of JSON lines. One frame at a time is
decompressed and searched with ``bytes.find`` for the start of the wanted
line, which is much faster than walking 100,000 lines in Python; a damaged
frame is skipped and reported, so samples after the damage are still found.
A log without an index (a run still going) is searched line by line through
the reader.
"""

from __future__ import annotations

from pathlib import Path

import zstandard

from ..errors import LogError
from ..log import iter_sample_lines
from ..log._index import read_index
from ._damage import collecting, joined

_SAMPLE_START = b'{"type":"sample"'


def find_line(path: Path, prefixes: tuple[bytes, ...]) -> tuple[bytes | None, str | None]:
    """The first sample line starting with one of ``prefixes``, and what was unreadable."""
    spans = _sample_frames(path)
    if spans is None:
        return _find_by_lines(path, prefixes)
    problems = []
    with path.open("rb") as handle:
        for number, (start, end) in enumerate(spans):
            handle.seek(start)
            try:
                data = zstandard.ZstdDecompressor().decompressobj().decompress(
                    handle.read(end - start))
            except zstandard.ZstdError as exc:
                problems.append(f"sample frame {number + 1} at byte {start} is corrupt ({exc})")
                continue
            if not data.startswith(_SAMPLE_START):
                return _find_by_lines(path, prefixes)  # not laid out as expected: the slow way
            line = _line_in(data, prefixes)
            if line is not None:
                return line, None
    return None, "; ".join(problems) or None


def _sample_frames(path: Path) -> list[tuple[int, int]] | None:
    """``(start, end)`` byte spans of the sample frames, from a finished log's index."""
    try:
        with path.open("rb") as handle:
            index = read_index(handle, path.stat().st_size)
    except (OSError, ValueError):
        return None
    if index is None:
        return None
    starts: list[int] = []
    for frame in index.frames:
        start = frame.get("offset") if isinstance(frame, dict) else None
        if not isinstance(start, int):
            return None
        starts.append(start)
    # Sample frames follow each other; the footer frame comes right after the last.
    return list(zip(starts, [*starts[1:], index.footer], strict=True))


def _line_in(data: bytes, prefixes: tuple[bytes, ...]) -> bytes | None:
    for prefix in prefixes:
        if data.startswith(prefix):
            start = 0
        else:
            found = data.find(b"\n" + prefix)
            if found < 0:
                continue
            start = found + 1
        end = data.find(b"\n", start)
        return data[start:end] if end >= 0 else None  # no newline: a torn line
    return None


def _find_by_lines(path: Path, prefixes: tuple[bytes, ...]) -> tuple[bytes | None, str | None]:
    seen = 0
    with collecting() as damage:
        try:
            for line in iter_sample_lines(path):
                if line.startswith(prefixes):
                    return line, None
                seen += 1
        except LogError as exc:
            return None, f"{exc} (searched the {seen} samples before it)"
    return None, joined(None, damage)
