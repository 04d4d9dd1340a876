"""Turning a data record (a JSON object, a CSV row) into ``Sample``s."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import DatasetError
from ..model import ChatMessage
from ._sample import Sample, SandboxSpec

RecordToSample = Callable[[dict[str, Any]], "Sample | list[Sample]"]
"""A function from one record to one sample, or to several."""

_MESSAGES = TypeAdapter(list[ChatMessage])


@dataclass(frozen=True)
class FieldSpec:
    """Which record fields hold each part of a sample (Inspect AI's names and defaults)."""

    input: str = "input"
    target: str = "target"
    id: str = "id"
    choices: str = "choices"
    metadata: list[str] | None = field(default=None)
    """Fields copied to ``Sample.metadata``; ``None`` copies every field not named above."""
    sandbox: str = "sandbox"
    files: str = "files"
    setup: str = "setup"


def record_mapper(sample_fields: FieldSpec | RecordToSample | None,
                  source: str) -> Callable[[dict[str, Any]], list[Sample]]:
    """A function from one record to its samples, whichever way they are specified."""
    if callable(sample_fields):
        convert = sample_fields

        def by_function(record: dict[str, Any]) -> list[Sample]:
            made = convert(record)
            samples = made if isinstance(made, list) else [made]
            for sample in samples:
                if not isinstance(sample, Sample):
                    raise DatasetError(
                        f"{source}: sample_fields returned {type(sample).__name__}, not a "
                        "Sample (or a list of them)")
            return samples

        return by_function
    spec = sample_fields or FieldSpec()
    return lambda record: [_sample_from_fields(record, spec, source)]


def records_to_samples(records: Iterable[dict[str, Any]],
                       to_samples: Callable[[dict[str, Any]], list[Sample]],
                       auto_id: bool) -> list[Sample]:
    """Every record's samples in order; ``auto_id`` numbers them 1..N over any ids they had."""
    samples = [sample for record in records for sample in to_samples(record)]
    if auto_id:
        for number, sample in enumerate(samples, 1):
            sample.id = number
    return samples


def _sample_from_fields(record: dict[str, Any], spec: FieldSpec, source: str) -> Sample:
    if record.get(spec.input) in (None, ""):
        raise DatasetError(
            f"{source}: a record has no {spec.input!r} field (fields: {sorted(record)}); "
            "pass sample_fields=FieldSpec(input=...) to name the input field")
    try:
        return Sample(
            input=_input(record[spec.input]),
            target=_target(record.get(spec.target)),
            id=record.get(spec.id),
            choices=_choices(record.get(spec.choices)),
            metadata=_metadata(record, spec),
            sandbox=_sandbox(record.get(spec.sandbox)),
            files=_json_field(record.get(spec.files), spec.files),
            setup=record.get(spec.setup) or None,
        )
    except (ValidationError, ValueError) as exc:
        raise DatasetError(f"{source}: record {record.get(spec.id)!r}: {exc}") from exc


def _input(value: Any) -> str | list[ChatMessage]:
    if isinstance(value, str):
        return value
    try:
        return _MESSAGES.validate_python(value)
    except ValidationError as exc:
        raise ValueError(
            "the input is neither text nor a list of chat messages "
            "({'role': 'user', 'content': ...})") from exc


def _target(value: Any) -> str | list[str]:
    if value is None:
        return ""
    return [str(item) for item in value] if isinstance(value, list) else str(value)


def _choices(value: Any) -> list[str] | None:
    """A list as is; a string as a JSON list, ``a|b``, ``a, b`` or ``a b`` (in that order)."""
    if value is None or value == "":
        return None
    if isinstance(value, list):
        return [str(choice) for choice in value]
    if not isinstance(value, str):
        return [str(value)]
    if value.startswith("["):
        return [str(choice) for choice in json.loads(value)]
    for separator in ("|", ","):
        if separator in value:
            return [choice.strip() for choice in value.split(separator)]
    return value.split()


def _metadata(record: dict[str, Any], spec: FieldSpec) -> dict[str, Any]:
    """The listed fields; else every other field, a ``metadata`` object's keys merged in."""
    if spec.metadata is not None:
        return {name: record.get(name) for name in spec.metadata}
    reserved = {spec.input, spec.target, spec.id, spec.choices, spec.sandbox, spec.files,
                spec.setup}
    metadata = {key: value for key, value in record.items() if key not in reserved}
    nested = _json_field(metadata.get("metadata"), "metadata")
    if isinstance(nested, dict):
        del metadata["metadata"]
        metadata.update(nested)
    return metadata


def _sandbox(value: Any) -> SandboxSpec | None:
    value = _json_field(value, "sandbox")
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list) and 1 <= len(value) <= 2:
        config = value[1] if len(value) == 2 else None
        return (str(value[0]), None if config is None else str(config))
    raise ValueError(f"sandbox must be a type or [type, config file], got {value!r}")


def _json_field(value: Any, name: str) -> Any:
    """A field that may hold JSON text (as every CSV cell does) decoded."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"field {name!r} is not valid JSON ({exc.msg})") from exc
    return None if value in ("", None) else value
