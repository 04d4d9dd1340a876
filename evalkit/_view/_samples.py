"""The samples of one log: a page of the table, and one sample by (id, epoch).

Nothing here holds a log's samples in memory. A page in file order streams
the raw lines and parses only the page's own; a sorted or filtered page needs
a small row per sample (id, epoch, scores, outcome, tokens, time), built in
one streaming pass and kept for a few logs at a time (:class:`TableCache`).
One sample is found by the start of its line, which the writer lays out as
``{"type":"sample","id":...,"epoch":...,``, so no other line is parsed
(:mod:`._seek`).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import pydantic_core

from ..errors import LogError
from ..log import iter_sample_lines
from ..log._lazy import LazySamples
from ._damage import collecting, joined
from ._seek import find_line

PAGE_SIZE = 100
OUTCOMES = ("all", "errored", "limited", "cancelled", "ok")
SORT_COLUMNS = ("id", "epoch", "score", "outcome", "tokens", "time")


class SampleRow(NamedTuple):
    """One line of the sample table (a tuple: 100,000 of them stay small)."""

    id: int | str
    epoch: int
    scores: dict[str, Any] | None
    error: str | None
    phase: str | None
    limit: str | None
    cancelled: bool
    tokens: int
    time: float | None
    attempts: int

    @property
    def outcome(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.error is not None:
            return "errored"
        return "limited" if self.limit is not None else "ok"

    def as_dict(self) -> dict[str, Any]:
        return {**self._asdict(), "outcome": self.outcome}


def row_of(line: bytes) -> SampleRow:
    """The table row of one sample's JSON line."""
    # pydantic's JSON parser (already a dependency) is ~3x faster than json's
    # here, which matters when a first sort reads 100,000 samples.
    record: dict[str, Any] = pydantic_core.from_json(line)
    error = record.get("error") or None
    limit = record.get("limit") or None
    usage = record.get("model_usage") or {}
    scores = record.get("scores")
    return SampleRow(
        id=record["id"], epoch=int(record.get("epoch", 1)),
        scores={name: score.get("value") for name, score in scores.items()} if scores else None,
        error=(error.get("message") or "").split("\n", 1)[0] if error else None,
        phase=error.get("phase") if error else None,
        limit=f"{limit.get('type')}={limit.get('limit')}" if limit else None,
        cancelled=bool(record.get("cancelled")),
        tokens=sum(int(model.get("total_tokens") or 0) for model in usage.values()),
        time=record.get("total_time"), attempts=int(record.get("attempts", 1)),
    )


@dataclass(frozen=True)
class Query:
    """What the sample table asks for: a filter, a sort and a page."""

    outcome: str = "all"
    score: str | None = None
    sort: str | None = None
    descending: bool = False
    offset: int = 0
    limit: int = PAGE_SIZE

    @property
    def in_file_order(self) -> bool:
        return self.outcome == "all" and self.score is None and self.sort is None

    def wants(self, row: SampleRow) -> bool:
        if self.outcome != "all" and row.outcome != self.outcome:
            return False
        if self.score is None:
            return True
        return any(_score_text(value) == self.score for value in (row.scores or {}).values())


@dataclass
class Page:
    """A page of rows, how many rows match in all, and what could not be read."""

    rows: list[SampleRow]
    total: int
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"rows": [row.as_dict() for row in self.rows], "total": self.total,
                "problem": self.problem}


def _score_text(value: Any) -> str:
    """A score value as the filter box compares it: ``C``, ``1``, ``0.5``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value)


def page_in_file_order(path: Path, query: Query) -> Page:
    """Rows ``offset..offset+limit`` in the order samples finished, parsing only those.

    The lines before the page are decompressed, never parsed; the total comes
    from a finished log's index (O(1)), else from counting the lines. Damage
    after the page is reported when a page, sort or filter reaches it.
    """
    with collecting() as damage:
        lines = _Guarded(iter_sample_lines(path))
        rows = [row_of(line) for line in islice(lines, query.offset, query.offset + query.limit)]
        if damage or lines.problem:  # the index's count includes what was lost: count
            for _ in lines:
                pass
            return Page(rows, lines.seen, joined(lines.problem, damage))
    return Page(rows, len(LazySamples(path)))


class _Guarded:
    """Lines of a log until it ends or turns out damaged; remembers why it stopped."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self._lines = lines
        self.problem: str | None = None
        self.seen = 0

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            line = next(self._lines)
        except LogError as exc:
            self.problem = f"{exc} (showing the {self.seen} samples before it)"
            raise StopIteration from None
        self.seen += 1
        return line


def build_table(path: Path) -> tuple[list[SampleRow], str | None]:
    """Every sample's row, in one streaming pass, and what stopped it early."""
    with collecting() as damage:
        lines = _Guarded(iter_sample_lines(path))
        shared: dict[tuple[Any, ...], dict[str, Any]] = {}
        rows = [_sharing_scores(row_of(line), shared) for line in lines]
    return rows, joined(lines.problem, damage)


def _sharing_scores(row: SampleRow, shared: dict[tuple[Any, ...], dict[str, Any]]) -> SampleRow:
    """``row`` with its scores dict shared with every row scored the same: most logs
    have a handful of distinct scores, so 100,000 rows hold a handful of dicts."""
    if row.scores is None:
        return row
    try:
        scores = shared.setdefault(tuple(row.scores.items()), row.scores)
    except TypeError:  # a list or dict as a score value: not hashable, keep it
        return row
    return row._replace(scores=scores)


def sort_key(column: str) -> Callable[[SampleRow], tuple[Any, ...]]:
    """A key that orders numbers before text before missing values, never raising."""

    def key(row: SampleRow) -> tuple[Any, ...]:
        value: Any
        if column == "score":
            value = next(iter((row.scores or {}).values()), None)
        elif column == "outcome":
            value = row.outcome
        else:
            value = getattr(row, column)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
            return (0, value, "")
        if value is None:
            return (2, 0, "")
        return (1, 0, _score_text(value))

    return key


class TableCache:
    """Sample tables of the last few logs viewed, rebuilt when a file changes."""

    def __init__(self, capacity: int = 4) -> None:
        self._capacity = capacity
        self._tables: OrderedDict[Path, tuple[tuple[int, int], list[SampleRow], str | None]]
        self._tables = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[Path, threading.Lock] = {}

    def table(self, path: Path) -> tuple[list[SampleRow], str | None]:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            build_lock = self._building.setdefault(path, threading.Lock())
        with build_lock:  # two requests for one log build its table once
            with self._lock:
                cached = self._tables.get(path)
                if cached is not None and cached[0] == key:
                    self._tables.move_to_end(path)
                    return cached[1], cached[2]
            rows, problem = build_table(path)
            with self._lock:
                self._tables[path] = (key, rows, problem)
                self._tables.move_to_end(path)
                while len(self._tables) > self._capacity:
                    self._tables.popitem(last=False)
        return rows, problem

    def page(self, path: Path, query: Query) -> Page:
        if query.in_file_order:
            return page_in_file_order(path, query)
        rows, problem = self.table(path)
        matching = [row for row in rows if query.wants(row)]
        if query.sort is not None:
            matching.sort(key=sort_key(query.sort), reverse=query.descending)
        return Page(matching[query.offset:query.offset + query.limit], len(matching), problem)


def find_sample_line(path: Path, sample_id: str, epoch: int) -> tuple[bytes | None, str | None]:
    """The JSON line of sample ``sample_id`` (as text, the URL's form) in ``epoch``.

    Returns ``(line, problem)``: the line or None, and what stopped the search
    early (a damaged frame before the sample was found).
    """
    prefixes = tuple(
        b'{"type":"sample","id":' + encoded + b',"epoch":' + str(epoch).encode() + b","
        for encoded in _id_encodings(sample_id)
    )
    return find_line(path, prefixes)


def _id_encodings(sample_id: str) -> list[bytes]:
    """How an id written in a URL may appear in the log: as a string, or as a number."""
    encodings = [json.dumps(sample_id).encode()]
    if sample_id.lstrip("-").isdigit():
        encodings.append(str(int(sample_id)).encode())
    return encodings
