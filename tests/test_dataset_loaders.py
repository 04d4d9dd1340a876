"""Inspect AI's dataset readers: keywords, field specs, dataset methods, hf_dataset."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from evalkit import eval
from evalkit._registry import find_task
from evalkit.dataset import (
    FieldSpec,
    MemoryDataset,
    Sample,
    csv_dataset,
    file_dataset,
    hf_dataset,
    json_dataset,
)
from evalkit.errors import DatasetError
from evalkit.model import ChatMessageSystem, ChatMessageUser


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_record_to_sample_may_return_several_and_auto_id_numbers_them(tmp_path: Path) -> None:
    """A record_to_sample returning a list adds each sample; auto_id renumbers 1..N."""
    data = _jsonl(tmp_path / "d.jsonl", [{"q": "a", "id": "x"}, {"q": "b", "id": "y"}])

    def two_each(record: dict[str, Any]) -> list[Sample]:
        return [Sample(input=record["q"], id=f"{record['id']}{n}") for n in (1, 2)]

    assert [s.id for s in json_dataset(data, two_each)] == ["x1", "x2", "y1", "y2"]
    assert [s.id for s in json_dataset(data, two_each, auto_id=True)] == [1, 2, 3, 4]


def test_record_to_sample_returning_something_else_is_a_clear_error(tmp_path: Path) -> None:
    """A record_to_sample that returns a dict names what it returned."""
    data = _jsonl(tmp_path / "d.jsonl", [{"q": "a"}])
    with pytest.raises(DatasetError, match="returned dict, not a Sample"):
        json_dataset(data, lambda record: record)  # type: ignore[arg-type,return-value]


def test_limit_applies_after_the_shuffle(tmp_path: Path) -> None:
    """limit keeps the first N of the shuffled order, as in Inspect AI."""
    data = _jsonl(tmp_path / "d.jsonl", [{"input": str(i), "id": i} for i in range(30)])
    shuffled = [s.id for s in json_dataset(data, shuffle=True, seed=7)]
    limited = json_dataset(data, shuffle=True, seed=7, limit=5)
    assert [s.id for s in limited] == shuffled[:5] and shuffled[:5] != [0, 1, 2, 3, 4]


def test_shuffle_choices_moves_letter_targets_with_their_choice(tmp_path: Path) -> None:
    """shuffle_choices=seed permutes choices and re-letters the target to the same text."""
    rows = [{"input": f"q{i}", "choices": ["w", "x", "y", "z"], "target": "C"} for i in range(12)]
    dataset = json_dataset(_jsonl(tmp_path / "d.jsonl", rows), shuffle_choices=5)
    orders = set()
    for sample in dataset:
        assert sample.choices is not None and sorted(sample.choices) == ["w", "x", "y", "z"]
        assert isinstance(sample.target, str)
        assert sample.choices[ord(sample.target) - ord("A")] == "y"
        orders.add(tuple(sample.choices))
    assert len(orders) > 1
    again = json_dataset(tmp_path / "d.jsonl", shuffle_choices=5)
    assert [s.choices for s in again] == [s.choices for s in dataset]


def test_a_json_string_may_hold_a_line_separator_character(tmp_path: Path) -> None:
    """U+2028 inside a JSON-lines string is text, not a line break."""
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"input": "a\u2028b"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert json_dataset(path)[0].input == "a\u2028b"


def test_encoding_is_honoured_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    """encoding= reads latin-1; undecodable bytes or an unknown codec are DatasetErrors."""
    path = tmp_path / "d.csv"
    path.write_bytes("input,target\ncafé,x\n".encode("latin-1"))
    assert csv_dataset(path, encoding="latin-1")[0].input == "café"
    with pytest.raises(DatasetError, match=r"not valid utf-8.*encoding="):
        csv_dataset(path)
    with pytest.raises(DatasetError, match="unknown text encoding 'nope'"):
        csv_dataset(path, encoding="nope")


def test_csv_delimiter_fieldnames_and_inspect_choice_strings(tmp_path: Path) -> None:
    """A headerless ;-separated file reads with fieldnames; 'a, b, c' choices split on commas."""
    path = tmp_path / "d.csv"
    path.write_text('What?;B;"red, green, blue"\n', encoding="utf-8")
    dataset = csv_dataset(path, fieldnames=["input", "target", "choices"], delimiter=";")
    assert dataset[0].input == "What?" and dataset[0].target == "B"
    assert dataset[0].choices == ["red", "green", "blue"]
    with pytest.raises(DatasetError, match="unknown CSV dialect"):
        csv_dataset(path, dialect="nope")


def test_field_spec_reads_files_setup_sandbox_and_nested_metadata(tmp_path: Path) -> None:
    """files (resolved beside the data file), setup, sandbox and a metadata object are read."""
    (tmp_path / "flag.txt").write_text("secret")
    data = _jsonl(tmp_path / "d.jsonl", [{
        "question": "find it", "answer": "secret", "files": {"flag.txt": "flag.txt",
                                                            "note.txt": "inline text"},
        "setup": "chmod 600 flag.txt", "sandbox": ["local", None],
        "metadata": {"level": 2}, "topic": "ctf"}])
    sample = json_dataset(data, FieldSpec(input="question", target="answer"))[0]
    assert sample.files == {"flag.txt": str(tmp_path / "flag.txt"), "note.txt": "inline text"}
    assert sample.setup == "chmod 600 flag.txt" and sample.sandbox == ("local", None)
    assert sample.metadata == {"level": 2, "topic": "ctf"}
    listed = json_dataset(data, FieldSpec(input="question", metadata=["topic", "missing"]))[0]
    assert listed.metadata == {"topic": "ctf", "missing": None}


def test_chat_message_input_is_read_as_messages(tmp_path: Path) -> None:
    """An input that is a list of role/content objects becomes chat messages."""
    data = _jsonl(tmp_path / "d.jsonl", [{"input": [
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}]}])
    assert json_dataset(data)[0].input == [ChatMessageSystem(content="Be terse."),
                                           ChatMessageUser(content="Hi")]
    bad = _jsonl(tmp_path / "bad.jsonl", [{"input": [{"role": "robot"}]}])
    with pytest.raises(DatasetError, match="neither text nor a list of chat messages"):
        json_dataset(bad)


def test_file_dataset_picks_the_reader_by_extension(tmp_path: Path) -> None:
    """file_dataset reads .csv as CSV and anything else as JSON."""
    (tmp_path / "d.csv").write_text("input,target\na,b\n")
    _jsonl(tmp_path / "d.jsonl", [{"input": "a", "target": "b"}])
    for name in ("d.csv", "d.jsonl"):
        assert file_dataset(tmp_path / name)[0].target == "b"


def test_remote_locations_are_refused_with_a_hint(tmp_path: Path) -> None:
    """An S3/HTTP location is a clear error, not a file-not-found puzzle."""
    with pytest.raises(DatasetError, match="local files only"):
        json_dataset("s3://bucket/data.jsonl")


def test_dataset_filter_sort_shuffle_and_slices_keep_ids() -> None:
    """filter, sort, shuffle and slicing keep each sample's id and the generated-ids flag."""
    dataset = MemoryDataset([Sample(input="x" * n) for n in (3, 1, 2, 5, 4)], name="d")
    assert [s.id for s in dataset] == [1, 2, 3, 4, 5]
    short = dataset.filter(lambda s: len(s.input) < 4)
    assert [s.id for s in short] == [1, 2, 3] and short.ids_generated and short.name == "d"
    assert dataset.filter(lambda s: True, name="all").name == "all"
    dataset.sort()
    assert [s.id for s in dataset] == [2, 3, 1, 5, 4]
    dataset.sort(reverse=True, key=lambda s: str(s.id))
    assert [s.id for s in dataset] == [5, 4, 3, 2, 1]
    dataset.shuffle(seed=1)
    assert dataset.shuffled and sorted(s.id for s in dataset) == [1, 2, 3, 4, 5]  # type: ignore[type-var]
    assert dataset[1:3].ids_generated and len(dataset[1:3]) == 2


def test_relative_dataset_path_is_read_from_the_task_files_directory(
        tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """json_dataset('data.jsonl') in a task file reads the file beside it, from any cwd."""
    folder = tmp_path / "evals"
    folder.mkdir()
    _jsonl(folder / "data.jsonl", [{"input": "q", "target": "Default"}])
    (folder / "t.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import json_dataset\n"
        "@task\ndef t():\n    return Task(dataset=json_dataset('data.jsonl'))\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [log] = eval(str(folder / "t.py"), model="mockllm/model", log_dir=str(log_dir),
                 display="none")
    assert log.status == "success" and log.eval.dataset.samples == 1


def test_task_directory_wins_and_the_current_directory_is_the_fallback(
        tmp_path: Path) -> None:
    """In a task file (module level or @task), the file beside it wins over the cwd's."""
    folder = tmp_path / "evals"
    folder.mkdir()
    (folder / "t.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import json_dataset\n"
        "AT_IMPORT = json_dataset('d.jsonl')[0].input\n"
        "@task\ndef t():\n    return Task(dataset=json_dataset('d.jsonl'))\n")
    _jsonl(folder / "d.jsonl", [{"input": "beside the task"}])
    _jsonl(tmp_path / "d.jsonl", [{"input": "in the cwd"}])
    [(_, make)] = find_task(folder / "t.py", "t")
    assert make().dataset[0].input == "beside the task"
    assert json_dataset("d.jsonl")[0].input == "in the cwd"  # outside any task
    (folder / "d.jsonl").unlink()
    assert make().dataset[0].input == "in the cwd"
    (tmp_path / "d.jsonl").unlink()
    with pytest.raises(DatasetError, match=r"not found.*task file's directory"):
        make()


@pytest.fixture
def offline_hf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hugging Face libraries kept offline, with caches in the test's directory."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "evalkit-cache"))
    pytest.importorskip("datasets", reason="hf_dataset needs the [hf] extra")
    return tmp_path


def test_hf_dataset_reads_a_local_dataset_directory(offline_hf: Path) -> None:
    """A local directory of JSON-lines data files loads, mapped, shuffled and limited."""
    folder = offline_hf / "qa"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", [{"question": f"q{i}", "answer": str(i)} for i in range(10)])
    dataset = hf_dataset(str(folder), split="train",
                         sample_fields=FieldSpec(input="question", target="answer"))
    assert [(s.input, s.target) for s in dataset][:2] == [("q0", "0"), ("q1", "1")]
    assert [s.id for s in dataset] == list(range(1, 11)) and dataset.name == "qa"
    limited = hf_dataset(str(folder), split="train", shuffle=True, seed=3, limit=4,
                         sample_fields=FieldSpec(input="question", target="answer"))
    assert len(limited) == 4 and [s.input for s in limited] != ["q0", "q1", "q2", "q3"]
    assert not (offline_hf / "evalkit-cache").exists()  # local data is never cached by us


def test_hf_dataset_caches_a_builder_dataset_for_offline_reruns(offline_hf: Path) -> None:
    """A non-local dataset is saved once and read back even when its source is gone."""
    data = _jsonl(offline_hf / "rows.jsonl", [{"input": "a", "target": "b"}])
    first = hf_dataset("json", split="train", data_files=str(data))
    data.unlink()
    again = hf_dataset("json", split="train", data_files=str(data))
    assert [s.input for s in again] == [s.input for s in first] == ["a"]
    with pytest.raises(DatasetError, match=r"hf_dataset\('json', split='train'\)"):
        hf_dataset("json", split="train", data_files=str(data), cached=False)


def test_hf_dataset_without_the_extra_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the datasets package the error names the extra to install."""
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(DatasetError, match=r"pip install 'evalkit\[hf\]'"):
        hf_dataset("anything", split="train")
