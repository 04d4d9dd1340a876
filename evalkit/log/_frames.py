"""Walking a log's zstd frames: each one decoded and checked whole before any of its
lines is used; a damaged one skipped and reported; bytes after the end ignored.

Why whole frames: zstd checks a frame's content checksum only at its end, so a
line is trusted only once its whole frame decoded and verified. Each frame is
therefore decoded twice, once to check it and once to read its lines, so that
memory stays flat. The last frame of an interrupted log has no end yet: its
complete lines are used as they are (nothing can verify them until the frame
is finished).

A damaged frame costs only its own samples: the walk resumes at the next zstd
frame magic after it (a false match inside compressed bytes fails to decode and
is skipped in turn).
"""

from __future__ import annotations

import os
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import zstandard

from ..errors import LogDamageWarning
from ._index import ZSTD_MAGIC, LogIndex
from ._writer import sample_frame_head

_CHUNK = 1 << 16
_U32 = struct.Struct("<I")
_SKIPPABLE_MASK, _SKIPPABLE = 0xFFFFFFF0, 0x184D2A50
_SKIPPABLE_PREFIX = _U32.pack(0x184D2A5E)
"""The skippable frame evalkit writes (the index)."""
_SAMPLE_FRAME_HEAD = sample_frame_head()


@dataclass(frozen=True)
class Frame:
    """Where one zstd frame is, whether it ended, and the start of its content."""

    offset: int
    end: int
    """Offset just past the frame (the file's size for an unfinished frame)."""
    head: bytes
    """The first bytes of its content (all of it when asked)."""
    finished: bool
    """False when the file ends inside the frame (an interrupted run's last frame)."""


class FrameError(Exception):
    """A frame that cannot be decoded (corrupt bytes, failed checksum)."""


def decode_frame(handle: BinaryIO, offset: int, size: int, keep: int = 16) -> Frame:
    """Decode and check the zstd frame at ``offset``, keeping the first ``keep`` bytes
    of its content; raises ``FrameError`` if it is damaged."""
    handle.seek(offset)
    decoder = zstandard.ZstdDecompressor().decompressobj()
    kept: list[bytes] = []
    room = keep
    position = offset
    while position < size:
        chunk = handle.read(min(_CHUNK, size - position))
        if not chunk:
            break
        position += len(chunk)
        try:
            decoded = decoder.decompress(chunk)
        except zstandard.ZstdError as exc:
            raise FrameError(str(exc).removeprefix("zstd decompressor error: ")) from None
        if room > 0:
            kept.append(decoded[:room])
            room -= len(kept[-1])
        if decoder.eof:
            return Frame(offset, position - len(decoder.unused_data), b"".join(kept), True)
    return Frame(offset, position, b"".join(kept), False)


def frame_lines(handle: BinaryIO, frame: Frame) -> Iterator[bytes]:
    """The complete lines of a frame already checked, decoded again as they are read
    (so memory stays flat); a last line with no newline (torn by a crash) is dropped."""
    handle.seek(frame.offset)
    decoder = zstandard.ZstdDecompressor().decompressobj()
    position, pending = frame.offset, b""
    while position < frame.end:
        chunk = handle.read(min(_CHUNK, frame.end - position))
        if not chunk:
            return
        position += len(chunk)
        try:
            lines = (pending + decoder.decompress(chunk)).split(b"\n")
        except zstandard.ZstdError:
            return  # changed since it was checked: nothing more from it is trusted
        pending = lines.pop()
        yield from (line for line in lines if line)


@dataclass
class _Damage:
    start: int
    end: int
    reason: str


class FrameWalker:
    """The frames of one log, in order, skipping (and reporting) damaged ones."""

    def __init__(self, handle: BinaryIO, source: Path, index: LogIndex | None) -> None:
        self.handle = handle
        self.source = source
        self.index = index
        self.size = os.fstat(handle.fileno()).st_size
        self.end = index.end if index is not None else self.size
        self.lost_samples = 0
        """Samples the damaged frames held, as far as the index tells."""

    def __iter__(self) -> Iterator[Frame]:
        if self.end < self.size:
            warn_trailing_bytes(self.source, self.size - self.end)
        damage: _Damage | None = None
        position = 0
        while position < self.end:
            frame, reason = self._frame_at(position)
            if frame is None:
                resume = self._next_magic(position + 1)
                if damage is not None and damage.end == position:
                    damage.end = resume  # one damaged stretch, one report
                else:
                    self._report(damage)
                    damage = _Damage(position, resume, reason)
                position = resume
                continue
            self._report(damage)
            damage = None
            if frame.head:
                yield frame
            position = frame.end
        self._report(damage)

    def _frame_at(self, position: int) -> tuple[Frame | None, str]:
        """The intact frame at ``position`` (a skippable one has no data), or why not."""
        self.handle.seek(position)
        head = self.handle.read(8)
        if head[:4] == ZSTD_MAGIC:
            try:
                frame = decode_frame(self.handle, position, self.end)
            except FrameError as exc:
                return None, str(exc)
            if frame.finished:
                return frame, ""
            if self.index is not None:
                return None, "the frame is cut short, though the log was finished"
            if self._frame_follows(position + 1):
                return None, "the frame is damaged (another frame follows it)"
            return frame, ""  # an interrupted run's last frame
        if len(head) < 8 and self.index is None and _is_torn_frame_start(head):
            return Frame(position, self.end, b"", False), ""  # a crash cut the next frame
        if len(head) == 8 and _U32.unpack_from(head)[0] & _SKIPPABLE_MASK == _SKIPPABLE:
            # A skippable frame that runs past the end is an index torn by a crash:
            # the log simply ends there.
            end = min(position + 8 + _U32.unpack_from(head, 4)[0], self.end)
            return Frame(position, end, b"", True), ""
        return None, "not a zstd frame"

    def _next_magic(self, start: int) -> int:
        """The offset of the next zstd frame magic at or after ``start`` (else the end)."""
        overlap = len(ZSTD_MAGIC) - 1
        position = start
        while position < self.end:
            self.handle.seek(position)
            block = self.handle.read(min(_CHUNK, self.end - position))
            found = block.find(ZSTD_MAGIC)
            if found >= 0:
                return position + found
            if len(block) <= overlap:
                break
            position += len(block) - overlap
        return self.end

    def _frame_follows(self, start: int) -> bool:
        """Whether an intact frame of the log starts after ``start``: a finished one,
        or the unfinished last one (its first line shows it is no chance match)."""
        position = self._next_magic(start)
        while position < self.end:
            try:
                frame = decode_frame(self.handle, position, self.end)
                if frame.finished or frame.head.startswith(b'{"type":"'):
                    return True
                self.handle.seek(position)
                if self.handle.read(len(_SAMPLE_FRAME_HEAD)) == _SAMPLE_FRAME_HEAD:
                    return True  # a new sample frame, cut before its first line
            except FrameError:
                pass
            position = self._next_magic(position + 1)
        return False

    def _report(self, damage: _Damage | None) -> None:
        if damage is None:
            return
        what = "the samples in it are lost"
        if self.index is not None:
            lost = self.index.samples_between(damage.start, damage.end)
            self.lost_samples += lost
            what = f"its {lost} samples are lost" if lost != 1 else "its 1 sample is lost"
        warnings.warn(LogDamageWarning(
            f"{self.source}: bytes {damage.start}-{damage.end} are damaged ({damage.reason}); "
            f"{what}, the rest of the log reads (`evalkit eval-retry` runs them again)"),
            stacklevel=2)


def _is_torn_frame_start(head: bytes) -> bool:
    """Whether ``head``, the last bytes of the file, start a frame a crash cut short."""
    return ZSTD_MAGIC.startswith(head[:4]) or _SKIPPABLE_PREFIX.startswith(head[:4])


def warn_trailing_bytes(source: Path, count: int) -> None:
    """Report bytes after the log's end (not written by evalkit): they are ignored."""
    warnings.warn(LogDamageWarning(
        f"{source}: {count} bytes after the end of the log (not written by evalkit) "
        "were ignored"), stacklevel=2)
