"""Loading datasets from JSON lines, JSON and CSV files (Inspect AI's readers)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .._util._hash import sha256_file
from .._util._paths import resolve_data_path
from ..errors import DatasetError
from ._fields import FieldSpec, RecordToSample, record_mapper, records_to_samples
from ._sample import Dataset, MemoryDataset, Sample

SampleFields = FieldSpec | RecordToSample | None


def json_dataset(
    json_file: str | Path,
    sample_fields: SampleFields = None,
    auto_id: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_choices: bool | int | None = None,
    limit: int | None = None,
    encoding: str = "utf-8",
    name: str | None = None,
    fs_options: dict[str, Any] | None = None,
    **reader_kwargs: Any,
) -> Dataset:
    """Samples from a JSON-lines file (``.jsonl``) or a JSON file (an array, or one object).

    A relative path is read from the task file's directory. ``reader_kwargs``
    go to ``json.loads``.
    """
    source = _existing(json_file, fs_options)
    text = _read_text(source, encoding)
    if source.suffix.lower() == ".jsonl":
        records = [_json_line(line, source, number, reader_kwargs)
                   for number, line in enumerate(text.split("\n"), 1) if line.strip()]
    else:
        records = _json_document(text, source, reader_kwargs)
    return _dataset(records, source, sample_fields, auto_id, shuffle, seed, shuffle_choices,
                    limit, name)


def csv_dataset(
    csv_file: str | Path,
    sample_fields: SampleFields = None,
    auto_id: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_choices: bool | int | None = None,
    limit: int | None = None,
    dialect: str = "unix",
    encoding: str = "utf-8",
    name: str | None = None,
    fs_options: dict[str, Any] | None = None,
    fieldnames: list[str] | None = None,
    delimiter: str = ",",
) -> Dataset:
    """Samples from a CSV file with a header row (or with ``fieldnames``).

    A relative path is read from the task file's directory.
    """
    source = _existing(csv_file, fs_options)
    if dialect not in csv.list_dialects():
        raise DatasetError(f"unknown CSV dialect {dialect!r}; use one of {csv.list_dialects()}")
    rows = io.StringIO(_read_text(source, encoding), newline="")
    try:
        records = list(csv.DictReader(rows, fieldnames=fieldnames, dialect=dialect,
                                      delimiter=delimiter))
    except csv.Error as exc:
        raise DatasetError(f"{source}: not valid CSV ({exc})") from exc
    return _dataset(records, source, sample_fields, auto_id, shuffle, seed, shuffle_choices,
                    limit, name)


def file_dataset(
    file: str | Path,
    sample_fields: SampleFields = None,
    auto_id: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_choices: bool | int | None = None,
    limit: int | None = None,
    dialect: str = "unix",
    encoding: str = "utf-8",
    name: str | None = None,
    fs_options: dict[str, Any] | None = None,
    fieldnames: list[str] | None = None,
) -> Dataset:
    """``csv_dataset`` for a ``.csv`` file, ``json_dataset`` for anything else."""
    common: dict[str, Any] = dict(
        sample_fields=sample_fields, auto_id=auto_id, shuffle=shuffle, seed=seed,
        shuffle_choices=shuffle_choices, limit=limit, encoding=encoding, name=name,
        fs_options=fs_options)
    if Path(file).suffix.lower() == ".csv":
        return csv_dataset(file, dialect=dialect, fieldnames=fieldnames, **common)
    return json_dataset(file, **common)


def samples_dataset(
    samples: list[Sample],
    *,
    shuffle: bool,
    seed: int | None,
    shuffle_choices: bool | int | None,
    limit: int | None,
    name: str | None,
    location: str | None,
    sha256: str | None,
) -> Dataset:
    """Samples in a dataset, then shuffled, choices shuffled and limited (Inspect's order)."""
    dataset = MemoryDataset(samples, name=name, location=location, sha256=sha256)
    if shuffle:
        dataset.shuffle(seed)
    if shuffle_choices is not None and shuffle_choices is not False:
        # An int (but not True) is the seed, as in Inspect AI.
        choice_seed = None if shuffle_choices is True else int(shuffle_choices)
        dataset.shuffle_choices(choice_seed)
    return dataset[:limit] if limit is not None else dataset


def _dataset(records: list[dict[str, Any]], source: Path, sample_fields: SampleFields,
             auto_id: bool, shuffle: bool, seed: int | None,
             shuffle_choices: bool | int | None, limit: int | None,
             name: str | None) -> Dataset:
    samples = records_to_samples(records, record_mapper(sample_fields, str(source)), auto_id)
    for sample in samples:
        _resolve_files(sample, source.parent)
    return samples_dataset(samples, shuffle=shuffle, seed=seed, shuffle_choices=shuffle_choices,
                           limit=limit, name=name or source.stem, location=str(source),
                           sha256=sha256_file(source))


def _resolve_files(sample: Sample, directory: Path) -> None:
    """A sample file named relative to the dataset file is found beside it (Inspect's rule)."""
    for target, value in (sample.files or {}).items():
        candidate = directory / value
        try:
            if not Path(value).is_absolute() and candidate.is_file():
                sample.files[target] = str(candidate)  # type: ignore[index]  # files is set here
        except (OSError, ValueError):
            continue  # inline text too long or odd to be a path: it stays text


def _existing(path: str | Path, fs_options: dict[str, Any] | None) -> Path:
    text = str(path)
    if "://" in text or fs_options:
        raise DatasetError(
            f"dataset {text!r}: evalkit reads local files only (no S3/HTTP filesystems); "
            "download the file first and pass its path")
    source = resolve_data_path(path)
    if not source.is_file():
        raise DatasetError(
            f"dataset file {text!r} not found (looked for {str(source)!r}); a relative path "
            "is read from the task file's directory")
    return source


def _read_text(source: Path, encoding: str) -> str:
    try:
        with source.open(encoding=encoding, newline="") as handle:
            return handle.read()
    except LookupError as exc:
        raise DatasetError(f"unknown text encoding {encoding!r} for {source}") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(
            f"{source} is not valid {encoding} ({exc.reason} at byte {exc.start}); "
            "pass encoding=... to name the file's encoding") from exc


def _json_document(text: str, source: Path, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        records = json.loads(text, **kwargs)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{source}: not valid JSON ({exc})") from exc
    if isinstance(records, dict):
        return [records]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DatasetError(f"{source}: expected a JSON array of objects, or one object")
    return records


def _json_line(line: str, source: Path, number: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(line, **kwargs)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{source}:{number}: not valid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise DatasetError(f"{source}:{number}: expected a JSON object per line")
    return record
