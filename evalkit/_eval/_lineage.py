"""What earlier runs of a task already did, merged across the whole lineage.

Every log in the directory with the same ``task_id`` counts: the original run,
retries, and retries that were themselves killed. A sample completed in any of
them is reused; its attempts and errors add up across all of them.

Deciding what to re-run must stay fast for logs of 100k samples, so a sample
line is not decoded with ``json.loads``: evalkit writes every sample with the
same field order, so id, epoch, input hash, cancelled flag and attempt count
sit at places a regular expression finds. Because a ``"`` inside a JSON string
is always escaped, a key pattern such as ``"cancelled":`` can only match real
keys; a line where a pattern matches more than once (a user's metadata reusing
the name) is decoded in full instead.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..dataset import Sample
from ..errors import LogError
from ..log import EvalError, EvalSpec, iter_sample_lines, list_eval_logs, read_eval_log_header
from ..log._reader import iter_sample_lines_checked, warn_bad_line
from ..model import ModelUsage
from ._sample import PriorAttempts

SampleKey = tuple[str, int]
"""(sample id as text, epoch): how samples are matched across runs."""
RecordKey = tuple[SampleKey, "str | None"]
"""A sample key and the hash of its input: a record is reused only for the same input."""
Status = Literal["completed", "error", "cancelled"]

_HEAD = re.compile(rb'\{"type":"sample","id":("(?:[^"\\]|\\.)*"|-?\d+),"epoch":(\d+),')
_HASH_KEY = b'"input_hash":"'
_STATE = re.compile(rb',"cancelled":(true|false),"attempts":(\d+)[,}]')
_STATE_KEY = b'"cancelled":'
_ERROR_START = b'"error":{"message":'


@dataclass(slots=True)  # 100k of these per retry: slots keep them small and cheap
class PastSample:
    """One (sample id, epoch) as recorded in one earlier log."""

    line: bytes | None
    """The raw JSON line (without its newline); dropped once loaded for a completed
    sample, which a retry copies from its log by ``log`` and ``ordinal`` instead."""
    key: SampleKey
    input_hash: str | None
    status: Status
    attempts: int
    log: Path | None = None
    ordinal: int = 0
    """Its place among the sample lines of ``log`` (as ``iter_sample_lines`` yields them)."""

    @property
    def completed(self) -> bool:
        """No error and not cancelled (a limit hit counts as completed)."""
        return self.status == "completed"

    def prior_attempts(self) -> PriorAttempts:
        """Attempts, errors (oldest first) and usage so far (decodes the line: rare)."""
        assert self.line is not None, "only a completed sample's line is dropped"
        record = json.loads(self.line)
        history = [EvalError.model_validate(e) for e in record.get("error_history") or []]
        if record.get("error") is not None:
            history.append(EvalError.model_validate(record["error"]))
        usage = {name: ModelUsage.model_validate(used)
                 for name, used in (record.get("model_usage") or {}).items()}
        return PriorAttempts(self.attempts, history, usage)


@dataclass
class Lineage:
    """The logs of one task_id and the best record of each sample and input among them."""

    logs: list[Path] = field(default_factory=list)
    records: dict[RecordKey, PastSample] = field(default_factory=dict)

    def best(self, key: SampleKey, input_hash: str) -> PastSample | None:
        """The best record of ``key`` run on this same input, if any."""
        return self.records.get((key, input_hash))

    def keys(self) -> set[SampleKey]:
        return {key for key, _ in self.records}


def key_of(sample_id: Any, epoch: int) -> SampleKey:
    return (str(sample_id), int(epoch))


def load_lineage(log: Path, spec: EvalSpec) -> Lineage:
    """The best record of every sample in every run of ``spec.task_id`` in ``log``'s directory.

    Damage costs only the damaged frames' samples (they re-run), with a
    ``LogDamageWarning``. A relative that cannot be read at all is skipped with
    a warning; ``log`` itself then raises ``LogError``.
    """
    lineage = Lineage(logs=same_task_logs(log, spec.task_id))
    for path in reversed(lineage.logs):  # oldest first, so newer records win ties
        try:
            with gc_paused():
                _load_log(path, lineage.records)
        except LogError as exc:
            if path == log:
                raise LogError(f"{exc}. To retry anyway, retry another log of the same "
                               "run (`evalkit log ls`)") from exc
            print(f"warning: {exc}; samples after the damage will re-run", file=sys.stderr)
    return lineage


def _load_log(path: Path, records: dict[RecordKey, PastSample]) -> None:
    """Keep the best records of ``path``; completed ones without their line (memory
    stays flat in the number of samples a retry carries: it streams them)."""
    for ordinal, (line, checked) in enumerate(iter_sample_lines_checked(path)):
        try:
            # A line no checksum vouches for is decoded in full: a damaged one is
            # skipped (and re-run) rather than carried into the new log.
            past = scan_sample_line(line) if checked else _decode_sample_line(line)
        except LogError as exc:
            warn_bad_line(path, line, exc)
            continue
        past.log, past.ordinal = path, ordinal
        if past.status == "completed":
            past.line = None
        _keep_best(records, past)


class CarriedSamples:
    """Sample records a retry reuses from earlier runs: where each sits, so they are
    streamed from their logs into the new one, never all held in memory."""

    def __init__(self) -> None:
        self._picked: dict[Path, bytearray] = {}  # per log, 1 at each carried ordinal
        self.count = 0
        self.errored = 0
        """Samples that failed ``max_attempts`` times: carried, not re-run."""

    def add(self, past: PastSample) -> None:
        assert past.log is not None
        picked = self._picked.setdefault(past.log, bytearray())
        if len(picked) <= past.ordinal:
            picked.extend(bytes(past.ordinal + 1 - len(picked)))
        picked[past.ordinal] = 1
        self.count += 1

    def lines(self) -> Iterator[bytes]:
        """The carried lines, read again from their logs (each log once, in order)."""
        for log, picked in self._picked.items():
            wanted, found = picked.count(1), 0
            for ordinal, line in enumerate(iter_sample_lines(log)):
                if ordinal < len(picked) and picked[ordinal]:
                    found += 1
                    yield line
            if found != wanted:
                raise LogError(f"{log} changed while the retry read it ({wanted - found} "
                               "samples to carry over are gone); retry again")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building 100k acyclic records.

    Each collection would walk every record built so far; pausing it makes the
    scan a third faster. Nothing built here forms a cycle, so nothing leaks.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def same_task_logs(log: Path, task_id: str) -> list[Path]:
    """``log`` and every log next to it with the same task_id, newest first.

    Ordered by the header's ``created`` (microseconds), not the file name,
    whose timestamp has one-second resolution.
    """
    created = {log: read_eval_log_header(log).eval.created}
    resolved = log.resolve()
    for path in list_eval_logs(log.parent):
        if path.resolve() == resolved:
            continue
        try:
            spec = read_eval_log_header(path).eval
        except LogError:
            continue  # an unrelated or damaged file must not block the retry
        if spec.task_id == task_id:
            created[path] = spec.created
    return sorted(created, key=lambda path: created[path], reverse=True)


def scan_sample_line(line: bytes) -> PastSample:
    """What a retry needs from one sample line, mostly without decoding it."""
    head = _HEAD.match(line)
    state_at = line.find(_STATE_KEY)
    # Exactly one "cancelled" key (a second could be a look-alike in user data).
    if head is None or state_at < 0 or line.find(_STATE_KEY, state_at + 1) >= 0:
        return _decode_sample_line(line)  # unusual shape: decode in full
    state = _STATE.match(line, state_at - 1)
    status = (None if state is None else "cancelled" if state.group(1) == b"true"
              else _error_or_completed(line, state_at))
    if state is None or status is None:
        return _decode_sample_line(line)
    # The first input_hash key after the id: a look-alike nested in the input could only
    # make the hash not match, so the sample would re-run, never be wrongly reused.
    hash_at = line.find(_HASH_KEY, head.end(), state_at)
    input_hash = None
    if hash_at >= 0:
        start = hash_at + len(_HASH_KEY)
        input_hash = line[start:line.index(b'"', start)].decode()
    token = head.group(1)
    sample_id = (token.decode() if token[:1] != b'"' else
                 token[1:-1].decode() if b"\\" not in token else str(json.loads(token)))
    return PastSample(line, (sample_id, int(head.group(2))), input_hash, status,
                      int(state.group(2)))


def _error_or_completed(line: bytes, state_at: int) -> Status | None:
    """Completed or error, from the top-level ``error`` that ends just before ``cancelled``.

    A top-level error is the last ``"error":{"message":`` before the cancelled
    flag (only ``limit`` may sit between them); ``None`` when unsure.
    """
    error_at = line.rfind(_ERROR_START, 0, state_at)
    if error_at < 0:
        return "completed"
    try:
        # up to the comma before the cancelled flag, which is not part of the value
        tail = json.loads(b"{" + line[error_at:state_at].rstrip(b",") + b"}")
    except ValueError:
        return None  # the match was nested inside another field: decode in full
    if isinstance(tail, dict) and "error" in tail and set(tail) <= {"error", "limit"}:
        return "error"
    return None


def _decode_sample_line(line: bytes) -> PastSample:
    try:
        record = json.loads(line)
        sample_id, epoch = record["id"], int(record.get("epoch", 1))
    except (ValueError, KeyError, TypeError) as exc:
        raise LogError(f"malformed sample record ({exc}): {line[:80]!r}") from None
    status: Status = ("cancelled" if record.get("cancelled") else
                      "error" if record.get("error") is not None else "completed")
    return PastSample(line, key_of(sample_id, epoch), record.get("input_hash"),
                      status, int(record.get("attempts", 1)))


def _rank(sample: PastSample) -> tuple[int, int, int]:
    """Completed beats the rest. Otherwise more attempts win: a retry's record carries
    the whole history of the one it retried, so an attempt cancelled after an error
    keeps its usage; then errored beats cancelled."""
    if sample.status == "completed":
        return (1, 0, 0)
    return (0, sample.attempts, sample.status == "error")


def _keep_best(records: dict[RecordKey, PastSample], new: PastSample) -> None:
    """The better record of ``new`` and the one kept so far; on a tie the newer."""
    key = (new.key, new.input_hash)
    old = records.get(key)
    if old is None or _rank(new) >= _rank(old):
        records[key] = new


_encode_json = json.JSONEncoder(ensure_ascii=False).encode
_fast_hash_agrees: bool | None = None
"""Whether the hand-built hash matched ``Sample.input_hash`` (None: not checked yet)."""


def input_hash_of(sample: Sample) -> str:
    """``sample.input_hash()``, four times faster for the common plain-text input.

    The fast path builds the same canonical JSON by hand; it is checked once
    against ``Sample.input_hash`` and never used again if the two disagree.
    """
    global _fast_hash_agrees
    if _fast_hash_agrees is False or not isinstance(sample.input, str) \
            or sample.choices is not None:
        return sample.input_hash()
    text = b'{"choices":null,"input":' + _encode_json(sample.input).encode() + b"}"
    fast = hashlib.sha256(text).hexdigest()[:32]
    if _fast_hash_agrees is None:
        _fast_hash_agrees = fast == sample.input_hash()
        if not _fast_hash_agrees:
            return sample.input_hash()
    return fast
