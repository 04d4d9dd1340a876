"""Datasets: loaders, ids, hashes and clear errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from evalkit.dataset import FieldSpec, MemoryDataset, Sample, csv_dataset, json_dataset
from evalkit.errors import DatasetError


def test_jsonl_loader_maps_fields_and_records_sha256(tmp_path: Path) -> None:
    """json_dataset reads JSON lines, maps fields and records the file's sha256."""
    path = tmp_path / "d.jsonl"
    rows = [{"q": "1+1", "a": "2", "id": "x", "level": 1}, {"q": "2+2", "a": "4", "id": "y"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dataset = json_dataset(path, FieldSpec(input="q", target="a"))
    assert [(s.id, s.input, s.target) for s in dataset] == [("x", "1+1", "2"), ("y", "2+2", "4")]
    assert dataset[0].metadata == {"level": 1}
    assert dataset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dataset.name == "d" and dataset.location == str(path)


def test_json_array_and_csv_loaders(tmp_path: Path) -> None:
    """A .json array and a CSV file with choices give the same samples."""
    (tmp_path / "d.json").write_text(json.dumps([{"input": "a", "target": "b",
                                                  "choices": ["x", "y"]}]))
    (tmp_path / "d.csv").write_text('input,target,choices\na,b,"x|y"\n')
    from_json = json_dataset(tmp_path / "d.json")
    from_csv = csv_dataset(tmp_path / "d.csv")
    for dataset in (from_json, from_csv):
        assert dataset[0].input == "a" and dataset[0].target == "b"
        assert dataset[0].choices == ["x", "y"]


def test_samples_without_ids_are_numbered_from_one() -> None:
    """Samples with no id get 1..N in dataset order; ids_generated says so."""
    dataset = MemoryDataset([Sample(input="a"), Sample(input="b")])
    assert [s.id for s in dataset] == [1, 2] and dataset.ids_generated
    assert not MemoryDataset([Sample(id="k", input="a")]).ids_generated


def test_shuffle_is_seeded_and_recorded(tmp_path: Path) -> None:
    """shuffle=True with a seed gives the same order each time and marks the dataset."""
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"input": str(i), "id": i}) + "\n" for i in range(20)))
    first = [s.id for s in json_dataset(path, shuffle=True, seed=3)]
    again = json_dataset(path, shuffle=True, seed=3)
    assert first == [s.id for s in again] and first != list(range(20)) and again.shuffled


def test_input_hash_changes_with_the_input() -> None:
    """The input hash follows the input and choices, not the target."""
    base = Sample(input="q", target="a")
    assert base.input_hash() == Sample(input="q", target="other").input_hash()
    assert base.input_hash() != Sample(input="q2", target="a").input_hash()
    assert base.input_hash() != Sample(input="q", choices=["x"]).input_hash()


def test_loader_errors_name_the_problem(tmp_path: Path) -> None:
    """A missing file, bad JSON or a missing input field is a DatasetError saying so."""
    with pytest.raises(DatasetError, match="not found"):
        json_dataset(tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"input": "a"}\n{oops\n')
    with pytest.raises(DatasetError, match=r"bad.jsonl:2: not valid JSON"):
        json_dataset(bad)
    other = tmp_path / "other.jsonl"
    other.write_text('{"question": "a"}\n')
    with pytest.raises(DatasetError, match=r"no 'input' field.*FieldSpec"):
        json_dataset(other)


def test_unloggable_sample_is_refused_before_the_run(log_dir: Path) -> None:
    """A sample with a lone surrogate is a DatasetError naming it, and no log is started."""
    from evalkit import Task, eval

    samples = [Sample(input="fine", target="x"), Sample(input="bad \ud800 text", target="x")]
    with pytest.raises(DatasetError, match=r"sample 2 .*lone surrogate"):
        eval(Task(dataset=samples), model="mockllm/model", log_dir=str(log_dir), display="none")
    assert not log_dir.exists() or list(log_dir.iterdir()) == []
