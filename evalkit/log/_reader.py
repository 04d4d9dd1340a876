"""Reading logs: header and footer in O(1), samples streamed.

A log with no footer is an interrupted (or still running) run: it reads with
status ``started`` and every sample that was fully written; a torn last line
is dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import zstandard
from pydantic import ValidationError

from ..errors import LogError, LogTruncatedError, LogVersionError
from ._index import ZSTD_MAGIC, read_index
from ._records import LOG_VERSION, EvalFooter, EvalLog, EvalSample, EvalSpec

_CHUNK = 1 << 16


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
    """Stream the samples of a log, one at a time, in the order they finished."""
    for line in iter_sample_lines(path):
        yield EvalSample.model_validate_json(line)


def iter_sample_lines(path: str | Path) -> Iterator[bytes]:
    """The raw JSON line of every sample, as written (used to carry samples over)."""
    for line in iter_lines(path):
        if line.startswith(b'{"type":"sample"'):
            yield line


def iter_lines(path: str | Path) -> Iterator[bytes]:
    """Every complete JSON line of a log: header, samples, footer."""
    source = Path(path)
    with _open(source) as handle:
        pending = b""
        for chunk in _decoded_chunks(handle):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            yield from (line for line in lines if line)
        # ``pending`` is a line torn by a crash mid-write: dropped.


def _decoded_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The decoded bytes of every zstd frame in ``handle``, in order.

    One ``decompressobj`` per frame, fed by hand: ``stream_reader.read`` returns
    empty, as if at the end, when an unfinished frame ends exactly at its input
    buffer's boundary while decoded data is still pending (a killed log read short).
    """
    decoder = zstandard.ZstdDecompressor().decompressobj()
    source = handle.name
    while chunk := handle.read(_CHUNK):
        while chunk:
            try:
                yield decoder.decompress(chunk)
            except zstandard.ZstdError as exc:
                raise LogError(f"{source}: corrupt log data ({exc}); the samples before "
                               "the damage can be read with `evalkit log dump`") from exc
            if not decoder.eof:
                break
            chunk = decoder.unused_data  # the next frame starts in this chunk
            decoder = zstandard.ZstdDecompressor().decompressobj()


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


def first_line_of_frame(handle: BinaryIO) -> bytes | None:
    """The first JSON line of the zstd frame at the handle's position, decoding no
    further; None if the frame ends (or is cut) before a newline.

    Raises ``zstandard.ZstdError`` for corrupt data.
    """
    reader = zstandard.ZstdDecompressor().stream_reader(handle, read_across_frames=False)
    data = b""
    while b"\n" not in data:
        chunk = reader.read(_CHUNK)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\n", 1)[0]


def _read_spec(handle: BinaryIO, source: Path) -> EvalSpec:
    try:
        line = first_line_of_frame(handle)
    except zstandard.ZstdError as exc:
        raise LogError(f"{source}: corrupt log header ({exc})") from exc
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
    size = os.fstat(handle.fileno()).st_size
    index = read_index(handle, size)
    if index is None:
        return None
    handle.seek(int(index["footer"]))
    try:
        return EvalFooter.model_validate_json(first_line_of_frame(handle) or b"")
    except (zstandard.ZstdError, ValidationError) as exc:
        raise LogError(f"{source}: corrupt log footer ({exc})") from exc


def _assemble(
    spec: EvalSpec, footer: EvalFooter | None, samples: list[EvalSample] | None, source: Path
) -> EvalLog:
    if footer is None:
        return EvalLog(status="started", eval=spec, samples=samples, location=str(source))
    return EvalLog(status=footer.status, eval=spec, results=footer.results, stats=footer.stats,
                   error=footer.error, samples=samples, location=str(source))
