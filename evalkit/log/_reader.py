"""Reading logs: header and footer in O(1), samples streamed.

A log with no footer is an interrupted (or still running) run: it reads with
status ``started`` and every sample that was fully written; a torn last line
is dropped.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from ..errors import LogDamageWarning, LogError, LogTruncatedError, LogVersionError
from ._frames import FrameError, FrameWalker, decode_frame, frame_lines, warn_trailing_bytes
from ._index import ZSTD_MAGIC, looks_like_damaged_index, read_index
from ._records import LOG_VERSION, EvalFooter, EvalLog, EvalSample, EvalSpec


def read_eval_log_header(path: str | Path) -> EvalLog:
    """Header and footer of a log (``samples=None``), without decoding samples."""
    source = Path(path)
    with _open(source) as handle:
        spec = _read_spec(handle, source)
        footer = _read_footer(handle, source)
    return _assemble(spec, footer, None, source)


def read_eval_log(path: str | Path, header_only: bool = False) -> EvalLog:
    """A whole log, samples included unless ``header_only``."""
    if header_only:
        return read_eval_log_header(path)
    log = read_eval_log_header(path)
    log.samples = list(read_eval_log_samples(path))
    return log


def read_eval_log_samples(path: str | Path) -> Iterator[EvalSample]:
    """Stream the samples of a log, one at a time, in the order they finished.

    A damaged frame's samples are skipped with a ``LogDamageWarning``; every
    intact sample is still yielded.
    """
    for line in iter_sample_lines(path):
        try:
            yield EvalSample.model_validate_json(line)
        except ValidationError as exc:
            warn_bad_line(path, line, exc)


def warn_bad_line(path: str | Path, line: bytes, exc: Exception) -> None:
    """Report a sample line that is not a valid record (possible only in a frame
    with no checksum: a log from before checksums, or an interrupted run's last frame)."""
    reason = f"{exc.error_count()} bad fields" if isinstance(exc, ValidationError) else str(exc)
    warnings.warn(LogDamageWarning(
        f"{path}: a damaged sample record was skipped ({reason}): {line[:60]!r}..."),
        stacklevel=3)


def iter_sample_lines(path: str | Path) -> Iterator[bytes]:
    """The raw JSON line of every sample, as written (used to carry samples over)."""
    for line, _ in iter_sample_lines_checked(path):
        yield line


def iter_sample_lines_checked(path: str | Path) -> Iterator[tuple[bytes, bool]]:
    """Every sample line and whether its frame's checksum vouches for it (False for
    an interrupted run's last frame and for logs written before checksums)."""
    for line, checked in _lines(path):
        if line.startswith(b'{"type":"sample"'):
            yield line, checked


def iter_lines(path: str | Path) -> Iterator[bytes]:
    """Every complete JSON line of a log: header, samples, footer.

    A damaged frame is skipped with a ``LogDamageWarning`` naming how many
    samples it held; the torn last line of an interrupted run is dropped.
    """
    for line, _ in _lines(path):
        yield line


def _lines(path: str | Path) -> Iterator[tuple[bytes, bool]]:
    source = Path(path)
    with _open(source) as handle:
        index = read_index(handle, os.fstat(handle.fileno()).st_size)
        for frame in FrameWalker(handle, source, index):
            for line in frame_lines(handle, frame):
                yield line, frame.checked


def _open(source: Path) -> BinaryIO:
    try:
        handle = source.open("rb")
    except FileNotFoundError:
        raise LogError(f"log file {str(source)!r} not found; `evalkit log ls` lists logs") from None
    except IsADirectoryError:
        raise LogError(f"{str(source)!r} is a directory, not a log file") from None
    head = handle.read(4)
    if not head:
        handle.close()
        raise LogTruncatedError(f"{source}: empty file, not an evalkit log (nothing was written)")
    if head != ZSTD_MAGIC:
        handle.close()
        raise LogError(f"{source}: not an evalkit log (expected zstd-compressed JSON lines, "
                       "*.jsonl.zst)")
    handle.seek(0)
    return handle


def first_line_of_frame(handle: BinaryIO, offset: int = 0) -> bytes | None:
    """The first JSON line of the zstd frame at ``offset``, its whole frame decoded
    and checked; None if the file ends before the line does.

    Raises ``FrameError`` for a damaged frame.
    """
    size = os.fstat(handle.fileno()).st_size
    data = decode_frame(handle, offset, size, keep=sys.maxsize).head
    if b"\n" not in data:
        return None
    return data.split(b"\n", 1)[0]


def _read_spec(handle: BinaryIO, source: Path) -> EvalSpec:
    try:
        line = first_line_of_frame(handle)
    except FrameError as exc:
        raise LogError(f"{source}: corrupt log header ({exc}); the log cannot be read "
                       "or retried") from None
    if line is None:
        raise LogTruncatedError(f"{source}: log cut short before its header was complete; "
                                "it holds no samples and cannot be read or retried")
    return _parse_spec(line, source)


def _parse_spec(line: bytes, source: Path) -> EvalSpec:
    try:
        raw: dict[str, Any] = json.loads(line)
    except ValueError as exc:
        raise LogError(f"{source}: not an evalkit log (first line is not JSON)") from exc
    if not isinstance(raw, dict) or raw.get("type") != "header":
        raise LogError(f"{source}: not an evalkit log (first record is not a header)")
    if raw.get("version") != LOG_VERSION:
        raise LogVersionError(
            f"{source}: log format version {raw.get('version')!r} is not supported by this "
            f"evalkit (reads version {LOG_VERSION}); use the evalkit version that wrote it"
        )
    try:
        return EvalSpec.model_validate(raw)
    except ValidationError as exc:
        raise LogError(f"{source}: malformed log header ({exc.error_count()} bad fields)") from exc


def _read_footer(handle: BinaryIO, source: Path) -> EvalFooter | None:
    """The footer, or None for an interrupted run (or a damaged footer, reported)."""
    size = os.fstat(handle.fileno()).st_size
    index = read_index(handle, size)
    if index is None:
        if looks_like_damaged_index(handle, size):
            _warn_no_footer(source, "its index is damaged")
        return None
    if index.end < size:
        warn_trailing_bytes(source, size - index.end)
    try:
        return EvalFooter.model_validate_json(first_line_of_frame(handle, index.footer) or b"")
    except (FrameError, ValidationError) as exc:
        _warn_no_footer(source, f"the footer is damaged ({exc})")
        return None


def _warn_no_footer(source: Path, why: str) -> None:
    warnings.warn(LogDamageWarning(
        f"{source}: {why}; the log reads as an interrupted run (status started) with "
        "every intact sample, and `evalkit eval-retry` finishes it"), stacklevel=4)


def _assemble(
    spec: EvalSpec, footer: EvalFooter | None, samples: list[EvalSample] | None, source: Path
) -> EvalLog:
    if footer is None:
        return EvalLog(status="started", eval=spec, samples=samples, location=str(source))
    return EvalLog(status=footer.status, eval=spec, results=footer.results, stats=footer.stats,
                   error=footer.error, samples=samples, location=str(source))
