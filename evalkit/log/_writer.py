"""Writing a log as it happens: every sample is on disk the moment it finishes.

Frames: the header is one zstd frame; samples stream into a second frame,
each block-flushed and written with one ``write`` so a ``kill -9`` at any
instant tears at most the block being written (readers drop it); sample frames
roll every ``ROLL_BYTES`` of JSON, and at the first write ``ROLL_SECONDS``
after a frame began, because zstd checks a frame's checksum only once the frame
is finished: a killed run's last, open frame is the only part of a log a
flipped bit can alter unnoticed, so it never holds more than about a second of
samples. The footer is its own frame, followed by the skippable index frame.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import zstandard

from . import _durable
from ._durable import PeriodicSync
from ._index import encode_index
from ._records import EvalFooter, EvalSample, EvalSpec

ROLL_BYTES = 4 << 20
ROLL_SECONDS = 1.0
COMPRESSION_LEVEL = 3


def new_compressor() -> zstandard.ZstdCompressor:
    # Content checksums: a reader detects a corrupt frame instead of returning altered
    # samples (logs written before them, without, still read).
    return zstandard.ZstdCompressor(level=COMPRESSION_LEVEL, write_checksum=True)


def sample_frame_head() -> bytes:
    """The first bytes of every sample frame this writer starts (magic, frame header
    descriptor, window descriptor): how a reader knows one of its frames."""
    frame = new_compressor().compressobj()
    return (frame.compress(b"\n") + frame.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))[:6]


class LogWriter:
    """Appends records to a new log file; never opens an existing one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "x": a new log never overwrites anything already on disk.
        self._file = open(self.path, "xb", buffering=0)  # noqa: SIM115  # closed in close()
        self._compressor = new_compressor()
        self._frame: Any = None  # zstandard's compressobj has no public type
        self._frame_started = 0.0
        self._offset = 0
        self._frames: list[dict[str, int]] = []
        self.samples_written = 0
        self._failed: OSError | None = None
        """The write error that ended this log; every later write raises it again."""
        self._sync = PeriodicSync(self._file.fileno(), self.path.parent, _durable.SYNC_INTERVAL)

    def write_header(self, spec: EvalSpec) -> None:
        line = spec.model_dump_json(exclude_none=True).encode() + b"\n"
        self._write(self._compressor.compress(line))

    def write_sample(self, sample: EvalSample) -> None:
        """Compress, block-flush and write one sample: durable once this returns."""
        self.write_sample_lines([sample.model_dump_json(exclude_none=True).encode() + b"\n"])

    def write_sample_lines(self, lines: Iterable[bytes]) -> None:
        """Write sample lines that are already JSON (carried over by a retry)."""
        data = b"".join(lines)
        if not data:
            return
        if self._frame is None:
            self._frame = self._compressor.compressobj()
            self._frame_started = time.monotonic()
            self._frames.append({"offset": self._offset, "bytes": 0, "samples": 0})
        current = self._frames[-1]
        chunk = self._frame.compress(data) + self._frame.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
        self._write(chunk)
        count = data.count(b"\n")
        current["bytes"] += len(data)
        current["samples"] += count
        self.samples_written += count
        if (current["bytes"] >= ROLL_BYTES
                or time.monotonic() - self._frame_started >= ROLL_SECONDS):
            self._finish_frame()

    def write_footer(self, footer: EvalFooter) -> None:
        """End the sample frame, then write footer and index with one ``write``."""
        self._finish_frame()
        footer_offset = self._offset
        line = footer.model_dump_json(exclude_none=True).encode() + b"\n"
        footer_frame = self._compressor.compress(line)
        index = {"footer": footer_offset, "frames": self._frames,
                 "samples": self.samples_written}
        self._write(footer_frame + encode_index(index))
        self._sync.sync_now()

    def close(self) -> None:
        """Sync what the timer has not yet synced, then close the file."""
        if self._file.closed:
            return
        try:
            self._sync.sync_now()
        except OSError:
            pass  # an abnormal end (a normal one synced in write_footer): its error matters
        finally:
            self._sync.close()
            self._file.close()

    def _finish_frame(self) -> None:
        if self._frame is not None:
            self._write(self._frame.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH))
            self._frame = None

    def _write(self, data: bytes) -> None:
        if self._failed is not None:
            raise self._failed  # the compressor's state no longer matches the file
        view = memoryview(data)
        try:
            while view:
                written = self._file.write(view)
                view = view[written or 0:]
        except OSError as exc:  # a full disk, an I/O error: keep only whole records
            self._failed = exc
            with contextlib.suppress(OSError):
                self._file.truncate(self._offset)
            raise
        self._offset += len(data)
        self._sync.wrote(self._offset)

    def __enter__(self) -> LogWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def log_file_name(created: str, task: str, run_id: str) -> str:
    """``<created>_<task>_<run_id>.jsonl.zst`` with the task name made file-safe."""
    safe_task = "".join(c if c.isalnum() or c in "-." else "-" for c in task)
    return f"{created}_{safe_task}_{run_id}.jsonl.zst"

