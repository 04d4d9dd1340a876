"""Loading datasets from JSON lines, JSON arrays and CSV files."""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util._hash import sha256_file
from ..errors import DatasetError
from ._sample import MemoryDataset, Sample


@dataclass(frozen=True)
class FieldSpec:
    """Which record fields hold a sample's input, target, id, choices and metadata."""

    input: str = "input"
    target: str = "target"
    id: str = "id"
    choices: str = "choices"
    metadata: list[str] | None = field(default=None)
    """Fields copied to ``Sample.metadata``; ``None`` copies every other field."""


RecordToSample = Callable[[dict[str, Any]], Sample]


def json_dataset(
    path: str | Path,
    sample_fields: FieldSpec | RecordToSample | None = None,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    limit: int | None = None,
    name: str | None = None,
) -> MemoryDataset:
    """Samples from a JSON-lines file (``.jsonl``) or a JSON array (``.json``)."""
    source = _existing(path)
    text = source.read_text(encoding="utf-8")
    if source.suffix == ".json":
        records = _json_array(text, source)
    else:
        records = [_json_line(line, source, number)
                   for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    return _build(records, source, sample_fields, shuffle, seed, limit, name)


def csv_dataset(
    path: str | Path,
    sample_fields: FieldSpec | RecordToSample | None = None,
    *,
    shuffle: bool = False,
    seed: int | None = None,
    limit: int | None = None,
    name: str | None = None,
    delimiter: str = ",",
) -> MemoryDataset:
    """Samples from a CSV file with a header row."""
    source = _existing(path)
    with source.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle, delimiter=delimiter))
    return _build(records, source, sample_fields, shuffle, seed, limit, name)


def _existing(path: str | Path) -> Path:
    source = Path(path)
    if not source.is_file():
        raise DatasetError(f"dataset file {str(source)!r} not found; check the path")
    return source


def _json_array(text: str, source: Path) -> list[dict[str, Any]]:
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{source}: not valid JSON ({exc})") from exc
    if not isinstance(records, list):
        raise DatasetError(f"{source}: expected a JSON array of records")
    return records


def _json_line(line: str, source: Path, number: int) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{source}:{number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise DatasetError(f"{source}:{number}: expected a JSON object per line")
    return record


def _build(
    records: list[dict[str, Any]],
    source: Path,
    sample_fields: FieldSpec | RecordToSample | None,
    shuffle: bool,
    seed: int | None,
    limit: int | None,
    name: str | None,
) -> MemoryDataset:
    to_sample = sample_fields if callable(sample_fields) else _field_mapper(
        sample_fields or FieldSpec(), source)
    samples = [to_sample(record) for record in records]
    if shuffle:
        random.Random(seed).shuffle(samples)
    if limit is not None:
        samples = samples[:limit]
    return MemoryDataset(samples, name=name or source.stem, location=str(source),
                         sha256=sha256_file(source), shuffled=shuffle)


def _field_mapper(spec: FieldSpec, source: Path) -> RecordToSample:
    def to_sample(record: dict[str, Any]) -> Sample:
        if spec.input not in record:
            raise DatasetError(
                f"{source}: a record has no {spec.input!r} field (fields: {sorted(record)}); "
                "pass sample_fields=FieldSpec(input=...) to name the input field"
            )
        reserved = {spec.input, spec.target, spec.id, spec.choices}
        keys = spec.metadata if spec.metadata is not None else [
            key for key in record if key not in reserved]
        choices = record.get(spec.choices)
        if isinstance(choices, str):
            choices = json.loads(choices) if choices.startswith("[") else choices.split("|")
        return Sample(
            input=record[spec.input],
            target=record.get(spec.target, ""),
            id=record.get(spec.id),
            choices=choices,
            metadata={key: record[key] for key in keys if key in record},
        )

    return to_sample
