"""Finding log files in a directory and summarising each run in one row.

A summary reads only the header and the footer of a finished log (O(1) in
the number of samples, through the trailing index frame). A log with no
footer is a run still going or one that was interrupted: its samples are
counted from the file, which decompresses it but parses only the few lines
that may hold an error or a cancellation.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import LogError
from ._frames import FrameError
from ._reader import (
    _open,
    _read_footer,
    first_line_of_frame,
    iter_sample_lines,
    read_eval_log_header,
    warn_bad_line,
)
from ._records import LOG_VERSION, EvalFooter, EvalLog, EvalStatus

LOG_SUFFIX = ".jsonl.zst"
DEFAULT_LOG_DIR = "logs"
_HEADER_CHUNK = 1 << 16
_HEADER_STRINGS = ("task", "task_id", "run_id", "created", "model")
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def default_log_dir() -> str:
    """``$EVALKIT_LOG_DIR``, else ``./logs``."""
    return os.environ.get("EVALKIT_LOG_DIR") or DEFAULT_LOG_DIR


def list_eval_logs(log_dir: str | Path | None = None, recursive: bool = False) -> list[Path]:
    """Log files under ``log_dir``, newest first (names start with their creation time)."""
    root = Path(log_dir if log_dir is not None else default_log_dir())
    if not root.is_dir():
        return []
    pattern = f"**/*{LOG_SUFFIX}" if recursive else f"*{LOG_SUFFIX}"
    return sorted(root.glob(pattern), key=lambda path: path.name, reverse=True)


@dataclass(frozen=True)
class LogSummary:
    """One run as ``evalkit log ls`` shows it.

    ``done`` counts samples that finished without error (limit hits
    included), like ``EvalResults.completed_samples``; ``total`` is samples x
    epochs. A ``started`` run has no footer yet, so ``cost`` is unknown.
    """

    log: str
    created: str
    task: str
    task_id: str
    run_id: str
    model: str
    status: EvalStatus
    done: int
    total: int
    errors: int
    cost: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_log(path: str | Path) -> LogSummary:
    """The summary of one log; raises ``LogError`` if it cannot be read."""
    source = Path(path)
    with _open(source) as handle:
        fields = scan_header(_header_line(handle))
        footer = _read_footer(handle, source) if fields is not None else None
    if fields is None:
        # Anything unusual (another version, a torn header, an odd layout):
        # the full reader validates it and raises the error that explains it.
        return _summary_of(read_eval_log_header(source), source)
    if footer is not None:
        results = footer.results
        done, errors, total = (results.completed_samples, results.errored_samples,
                               results.total_samples)
    else:
        done, errors = _count_written_samples(source)
        total = fields["samples"] * fields["epochs"]
    return LogSummary(
        log=str(source), created=fields["created"], task=fields["task"],
        task_id=fields["task_id"], run_id=fields["run_id"], model=fields["model"],
        status=footer.status if footer else "started", done=done, total=total, errors=errors,
        cost=footer.stats.cost if footer else None,
    )


@dataclass(frozen=True)
class LogHead:
    """A log's top-level header fields (those before ``dataset``: task, task_id,
    created, task file and args, model and args, config) and its footer (None: no
    footer, an interrupted or running run). Read without decoding any sample."""

    path: Path
    fields: dict[str, Any]
    footer: EvalFooter | None


def read_log_head(path: str | Path) -> LogHead:
    """The header fields and footer of one log; raises ``LogError`` if unreadable."""
    source = Path(path)
    with _open(source) as handle:
        fields = scan_header(_header_line(handle))
        footer = _read_footer(handle, source) if fields is not None else None
    if fields is None:  # an unusual layout: the full reader validates it (or explains)
        log = read_eval_log_header(source)
        fields = log.eval.model_dump(mode="json", exclude={"dataset", "metadata", "replay"})
        parts = {"status": log.status, "results": log.results, "stats": log.stats,
                 "error": log.error}
        footer = None if log.status == "started" else EvalFooter.model_validate(
            {key: value for key, value in parts.items() if value is not None})
    return LogHead(source, fields, footer)


def _summary_of(log: EvalLog, path: Path) -> LogSummary:
    spec = log.eval
    if log.results is not None:
        done, errors = log.results.completed_samples, log.results.errored_samples
        total = log.results.total_samples
    else:
        done, errors = _count_written_samples(path)
        total = spec.dataset.samples * int(spec.config.get("epochs", 1))
    return LogSummary(
        log=str(path), created=spec.created, task=spec.task, task_id=spec.task_id,
        run_id=spec.run_id, model=spec.model, status=log.status, done=done, total=total,
        errors=errors, cost=log.stats.cost if log.stats else None,
    )


def _header_line(handle: BinaryIO) -> bytes | None:
    """The header's JSON line from the first frame; None if it cannot be had."""
    try:
        return first_line_of_frame(handle)
    except FrameError:
        return None


def scan_header(line: bytes | None) -> dict[str, Any] | None:
    """The header fields ``log ls`` shows, read without parsing the whole line.

    A header lists up to 10,000 sample ids after ``dataset.samples``; parsing
    them for each of 1,000 logs takes about a second. Top-level values are
    decoded one at a time and the scan stops at ``dataset.samples`` once the
    other fields are known. None when the line is not laid out as expected.
    """
    if line is None:
        return None
    try:
        found = _top_level_fields(line.decode())
    except (ValueError, IndexError, TypeError):
        return None
    if found.get("type") != "header" or found.get("version") != LOG_VERSION:
        return None
    if not all(isinstance(found.get(name), str) for name in _HEADER_STRINGS):
        return None
    config, samples = found.get("config", {}), found.get("samples")
    if not isinstance(samples, int) or not isinstance(config, dict):
        return None
    epochs = config.get("epochs", 1)
    found["epochs"] = epochs if isinstance(epochs, int) else 1
    return found


def _top_level_fields(text: str) -> dict[str, Any]:
    wanted = {"type", "version", "config", *_HEADER_STRINGS}
    found: dict[str, Any] = {}
    index = _after(text, 0, "{")
    while text[_skip_space(text, index)] != "}":
        key, index = _DECODER.raw_decode(text, _skip_space(text, index))
        index = _skip_space(text, _after(text, index, ":"))
        if key == "dataset" and wanted <= found.keys():
            found["samples"] = _dataset_samples(text, index)
            return found  # everything else in the header is not shown
        found[key], index = _DECODER.raw_decode(text, index)
        if key == "dataset":
            found["samples"] = found[key].get("samples")
        if text[_skip_space(text, index)] == ",":
            index = _skip_space(text, index) + 1
    return found


def _dataset_samples(text: str, index: int) -> Any:
    """``dataset.samples``, scanning the dataset object only as far as that key."""
    index = _after(text, index, "{")
    while True:
        key, index = _DECODER.raw_decode(text, _skip_space(text, index))
        value, index = _DECODER.raw_decode(text, _skip_space(text, _after(text, index, ":")))
        if key == "samples":
            return value
        index = _after(text, index, ",")


def _after(text: str, index: int, char: str) -> int:
    """The index past ``char``, which must come next (after any whitespace)."""
    index = _skip_space(text, index)
    if text[index] != char:
        raise ValueError(f"expected {char!r} at offset {index}")
    return index + 1


def _skip_space(text: str, index: int) -> int:
    match = _SPACE.match(text, index)
    return match.end() if match else index


def _count_written_samples(path: str | Path) -> tuple[int, int]:
    """``(completed, errored)`` among the samples a footerless log holds so far."""
    completed = errored = 0
    for line in iter_sample_lines(path):
        # Only a line containing one of these markers can be errored or
        # cancelled; parse those few to look at the top-level fields only.
        if b'"error":{' not in line and b'"cancelled":true' not in line:
            completed += 1
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:  # damaged, in a frame with no checksum
            warn_bad_line(path, line, exc)
            continue
        if record.get("cancelled"):
            continue
        if record.get("error") is not None:
            errored += 1
        else:
            completed += 1
    return completed, errored


@dataclass(frozen=True)
class SkippedLog:
    """A file in the log directory that could not be read, and why."""

    path: Path
    reason: str


def summarize_logs(
    log_dir: str | Path | None = None, status: EvalStatus | None = None
) -> tuple[list[LogSummary], list[SkippedLog]]:
    """Summaries of the logs in ``log_dir`` (newest first), and the files skipped."""
    summaries: list[LogSummary] = []
    skipped: list[SkippedLog] = []
    for outcome in _summaries(log_dir):
        if isinstance(outcome, SkippedLog):
            skipped.append(outcome)
        elif status is None or outcome.status == status:
            summaries.append(outcome)
    # File names carry the creation time to the second; the header has microseconds.
    summaries.sort(key=lambda summary: summary.created, reverse=True)
    return summaries, skipped


def group_by_lineage(summaries: list[LogSummary]) -> list[list[LogSummary]]:
    """Runs grouped by lineage (their ``task_id``: a run and its retries), each group
    newest first, groups ordered by their newest run; ``summaries`` newest first."""
    groups: dict[str, list[LogSummary]] = {}
    for summary in summaries:
        groups.setdefault(summary.task_id, []).append(summary)
    return list(groups.values())


def _summaries(log_dir: str | Path | None) -> Iterator[LogSummary | SkippedLog]:
    for path in list_eval_logs(log_dir):
        try:
            yield summarize_log(path)
        except LogError as exc:
            yield SkippedLog(path, str(exc))
