"""The trailing index: a zstd skippable frame that zstdcat, jq and DuckDB ignore.

Layout (all little-endian)::

    magic 0x184D2A5E | u32 size | JSON payload | u32 len(payload) | b"EKIX"

The last eight bytes of a finished log therefore say where the index starts,
so a reader finds the footer frame in O(1) without decoding any sample.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

SKIPPABLE_MAGIC = 0x184D2A5E
TRAILER_MAGIC = b"EKIX"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_TRAILER = struct.Struct("<I4s")
_FRAME_HEAD = struct.Struct("<II")


def encode_index(index: dict[str, Any]) -> bytes:
    payload = json.dumps(index, separators=(",", ":")).encode()
    payload += _TRAILER.pack(len(payload), TRAILER_MAGIC)
    return _FRAME_HEAD.pack(SKIPPABLE_MAGIC, len(payload)) + payload


def read_index(handle: BinaryIO, file_size: int) -> dict[str, Any] | None:
    """The index at the end of ``handle``, or ``None`` if the log never finished."""
    if file_size < _TRAILER.size + _FRAME_HEAD.size:
        return None
    handle.seek(file_size - _TRAILER.size)
    length, magic = _TRAILER.unpack(handle.read(_TRAILER.size))
    start = file_size - _TRAILER.size - length - _FRAME_HEAD.size
    if magic != TRAILER_MAGIC or start < 0:
        return None
    handle.seek(start)
    frame_magic, _ = _FRAME_HEAD.unpack(handle.read(_FRAME_HEAD.size))
    if frame_magic != SKIPPABLE_MAGIC:
        return None
    try:
        index: dict[str, Any] = json.loads(handle.read(length))
    except ValueError:
        return None
    return index
