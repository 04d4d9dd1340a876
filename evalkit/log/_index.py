"""The trailing index: a zstd skippable frame that zstdcat, jq and DuckDB ignore.

Layout (all little-endian)::

    magic 0x184D2A5E | u32 size | JSON payload | u32 len(payload) | b"EKIX"

The last eight bytes of a finished log therefore say where the index starts,
so a reader finds the footer frame in O(1) without decoding any sample. Bytes
appended after it (a stray ``echo >> log``) do not hide it: the trailer is
looked for in the last ``TAIL_BYTES`` of the file.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

SKIPPABLE_MAGIC = 0x184D2A5E
TRAILER_MAGIC = b"EKIX"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
TAIL_BYTES = 1 << 16
"""How far from the end of the file the trailer is looked for."""
_TYPICAL_INDEX_BYTES = 4096
_TRAILER = struct.Struct("<I4s")
_FRAME_HEAD = struct.Struct("<II")


@dataclass(frozen=True)
class LogIndex:
    """Where a finished log's footer and sample frames are."""

    footer: int
    """Offset of the footer frame."""
    end: int
    """Offset just past the index: the end of the log as evalkit wrote it."""
    frames: list[dict[str, int]] = field(default_factory=list)
    """Each sample frame's ``offset``, JSON ``bytes`` and ``samples``."""
    samples: int = 0

    def samples_between(self, start: int, end: int) -> int:
        """How many samples the sample frames starting in ``[start, end)`` hold."""
        return sum(frame.get("samples", 0) for frame in self.frames
                   if start <= frame.get("offset", -1) < end)


def encode_index(index: dict[str, Any]) -> bytes:
    payload = json.dumps(index, separators=(",", ":")).encode()
    payload += _TRAILER.pack(len(payload), TRAILER_MAGIC)
    return _FRAME_HEAD.pack(SKIPPABLE_MAGIC, len(payload)) + payload


def read_index(handle: BinaryIO, file_size: int) -> LogIndex | None:
    """The index near the end of ``handle``, or ``None`` if the log never finished
    (or its index is damaged)."""
    for tail_bytes in (_TYPICAL_INDEX_BYTES, TAIL_BYTES):  # the usual case first
        tail_start = max(0, file_size - tail_bytes)
        handle.seek(tail_start)
        tail = handle.read(file_size - tail_start)
        index = _index_in(handle, tail, tail_start)
        if index is not None or tail_start == 0:
            return index
    return None


def _index_in(handle: BinaryIO, tail: bytes, tail_start: int) -> LogIndex | None:
    """The last valid index whose trailer lies in ``tail`` (the file from ``tail_start``)."""
    at = len(tail)
    while (at := tail.rfind(TRAILER_MAGIC, 0, at)) >= 0:
        index = _index_ending_at(handle, tail_start + at + len(TRAILER_MAGIC), tail, tail_start)
        if index is not None:
            return index
    return None


def looks_like_damaged_index(handle: BinaryIO, file_size: int) -> bool:
    """Whether the end of a log with no readable index still shows one (damaged).

    One damaged byte can break the index's frame head, its JSON or its trailer,
    never two of them: an interrupted run's log shows none of them whole.
    """
    tail_start = max(0, file_size - TAIL_BYTES)
    handle.seek(tail_start)
    tail = handle.read(file_size - tail_start)
    if TRAILER_MAGIC in tail:
        return True
    at = tail.rfind(_FRAME_HEAD.pack(SKIPPABLE_MAGIC, 0)[:4])
    if at < 0 or tail[at + 8:at + 18] != b'{"footer":':
        return False
    # A frame running past the end of the file is an index torn by a crash, not damage.
    size = int(_FRAME_HEAD.unpack_from(tail, at)[1])
    return at + _FRAME_HEAD.size + size <= len(tail)


def _index_ending_at(handle: BinaryIO, end: int, tail: bytes, tail_start: int) -> LogIndex | None:
    """The index whose trailer ends at ``end``, if the bytes there are one."""
    trailer_at = end - _TRAILER.size
    if trailer_at - tail_start < 0:
        return None
    length, _ = _TRAILER.unpack_from(tail, trailer_at - tail_start)
    start = trailer_at - length - _FRAME_HEAD.size
    if start < 0:
        return None
    handle.seek(start)
    frame_magic, size = _FRAME_HEAD.unpack(handle.read(_FRAME_HEAD.size))
    if frame_magic != SKIPPABLE_MAGIC or size != length + _TRAILER.size:
        return None
    try:
        raw = json.loads(handle.read(length))
        return LogIndex(footer=int(raw["footer"]), end=end, frames=list(raw.get("frames", [])),
                        samples=int(raw["samples"]))
    except (ValueError, KeyError, TypeError):
        return None
