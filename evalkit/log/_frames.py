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
_CHECKSUM_FLAG = 0x04
"""Content_Checksum_flag in a zstd frame header descriptor."""


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
    checked: bool = False
    """Finished with a content checksum that matched: its lines are exactly as written."""
    salvaged: bool = False
    """The last frame of an interrupted log, damaged from some point on (a power cut
    leaves zeros or stale bytes after the last synced write): read up to the damage."""


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
            return Frame(offset, position - len(decoder.unused_data), b"".join(kept), True,
                         checked=_has_checksum(handle, offset))
    return Frame(offset, position, b"".join(kept), False)


def _has_checksum(handle: BinaryIO, offset: int) -> bool:
    """Whether the frame at ``offset`` declares a content checksum (zstd checked it)."""
    handle.seek(offset + len(ZSTD_MAGIC))
    descriptor = handle.read(1)
    return bool(descriptor) and bool(descriptor[0] & _CHECKSUM_FLAG)


def frame_lines(handle: BinaryIO, frame: Frame) -> Iterator[bytes]:
    """The complete lines of a frame already checked, decoded again as they are read
    (so memory stays flat); a last line with no newline (torn by a crash) is dropped."""
    pending = b""
    for decoded in _frame_content(handle, frame):
        lines = (pending + decoded).split(b"\n")
        pending = lines.pop()
        yield from (line for line in lines if line)


def _frame_content(handle: BinaryIO, frame: Frame) -> Iterator[bytes]:
    """The frame's content, chunk by chunk; a salvaged frame's up to its damage."""
    handle.seek(frame.offset)
    decoder = zstandard.ZstdDecompressor().decompressobj()
    position = frame.offset
    while position < frame.end:
        chunk = handle.read(min(_CHUNK, frame.end - position))
        if not chunk:
            return
        try:
            yield decoder.decompress(chunk)
        except zstandard.ZstdError:
            if frame.salvaged:
                yield from _content_before_damage(handle, frame.offset, position, chunk)
            return  # else it changed since it was checked: nothing more is trusted
        position += len(chunk)


def _content_before_damage(handle: BinaryIO, offset: int, good_end: int,
                           bad_chunk: bytes) -> Iterator[bytes]:
    """What ``bad_chunk`` (the chunk at ``good_end`` where decoding failed) decodes to
    before the damage: the frame is decoded again up to it, then byte by byte."""
    decoder = zstandard.ZstdDecompressor().decompressobj()
    handle.seek(offset)
    position = offset
    while position < good_end:  # rebuild the decoder's state; this output was yielded
        chunk = handle.read(min(_CHUNK, good_end - position))
        decoder.decompress(chunk)
        position += len(chunk)
    for at in range(len(bad_chunk)):
        try:
            yield decoder.decompress(bad_chunk[at:at + 1])
        except zstandard.ZstdError:
            return


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
            if frame.head or frame.salvaged:
                yield frame
            if frame.salvaged:
                self._report_salvaged(frame, reason)
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
                # Damage at the end of an interrupted log (not a failed checksum: that
                # frame was whole, so where its damage starts is unknown).
                if self.index is None and "checksum" not in str(exc) \
                        and not self._frame_follows(position + 1):
                    return Frame(position, self.end, b"", False, salvaged=True), str(exc)
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

    def _report_salvaged(self, frame: Frame, reason: str) -> None:
        warnings.warn(LogDamageWarning(
            f"{self.source}: the last frame (from byte {frame.offset}) is damaged from some "
            f"point on ({reason}), as a power cut leaves it; the samples before the damage "
            "were read, the rest are lost (`evalkit eval-retry` runs them again)"),
            stacklevel=2)

    def _report(self, damage: _Damage | None) -> None:
        if damage is None:
            return
        what = "the samples in it are lost"
        if self.index is not None:
            lost = self.index.samples_between(damage.start, damage.end)
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
