"""Task args and options round-trip exactly through the header, or are refused up front."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import zstandard
from conftest import run_cli

from evalkit import Task, eval, task
from evalkit._util._exact import NotRecordable, decode, encode
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log_header

SEEN_TASK = (Path(__file__).parent / "retry_tasks" / "seen_args.py").read_text()

TRICKY: list[Any] = [
    math.inf, -math.inf, 0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, 10**40, -(10**40),
    None, True, "inf", "", [math.nan, [math.inf]], {"$float": "inf"}, {"$dict": {}},
    {"$tuple": [1]}, (1, (2.5, math.inf)), {"a": {"b": [None, -math.inf]}}, [],
]


def _same(left: Any, right: Any) -> bool:
    """Equal, NaN equal to NaN, and of the same types all the way down."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return (math.isnan(left) and math.isnan(right)) or (
            left == right and math.copysign(1, left) == math.copysign(1, right))
    if isinstance(left, (list, tuple)):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    return bool(left == right)


@pytest.mark.parametrize("value", [*TRICKY, math.nan], ids=repr)
def test_exact_encoding_round_trips_through_json(value: Any) -> None:
    """encode -> JSON text -> decode gives back the same value, types included."""
    text = json.dumps(encode(value), allow_nan=False)
    assert _same(decode(json.loads(text)), value)


@pytest.mark.parametrize("value", [{1: "a"}, {"ok": {2.5: 1}}, object(), {1, 2}, b"x", "\ud800"])
def test_values_a_log_cannot_hold_are_refused(value: Any) -> None:
    """Non-text keys, sets, bytes and objects are refused, never changed."""
    with pytest.raises(NotRecordable):
        encode(value)


@pytest.mark.parametrize("odd", [{"$float": "garbage"}, {"$float": 1}, {"$tuple": "x"},
                                 {"$dict": 3}])
def test_decoding_an_edited_log_never_raises(odd: dict[str, Any]) -> None:
    """A tag-like object that encode never writes (a hand-edited log) is left as it is."""
    assert decode({"x": odd}) == {"x": odd}


def _header_line(path: Path) -> dict[str, Any]:
    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
        first = reader.read(1 << 20).split(b"\n", 1)[0]
    header: dict[str, Any] = json.loads(first)
    return header


def test_cli_task_args_round_trip_through_retry(tmp_path: Path) -> None:
    """-T inf/-inf/nan/Infinity, a large int and nested JSON reach the retry's task exactly."""
    (tmp_path / "seen.py").write_text(SEEN_TASK)
    seen_file = tmp_path / "seen.txt"
    env = {"SEEN_FILE": str(seen_file)}
    args = ["-T", "x=inf", "-T", "y=-inf", "-T", "z=nan", "-T", "w=Infinity",
            "-T", "big=123456789012345678901234567890",
            "-T", 'nested={"a": [1, NaN, {"$float": "x"}], "b": [-Infinity], "c": null}',
            "-T", "none=none", "-T", "text=hello"]
    done = run_cli("eval", "seen.py", "--model", "mockllm/model", "--display", "none",
                   "--time-limit", "inf", *args, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    header = _header_line(log)
    assert header["task_args"]["x"] == {"$float": "inf"}
    assert header["config"]["time_limit"] == {"$float": "inf"}
    retried = run_cli("eval-retry", str(log), "--display", "none", cwd=tmp_path, env=env)
    assert retried.returncode == 0, retried.stderr
    first, second = seen_file.read_text().splitlines()
    assert first == second
    assert "('x', inf)" in first and "('z', nan)" in first and "('none', None)" in first
    assert "123456789012345678901234567890" in first and "{'$float': 'x'}" in first
    [new] = set((tmp_path / "logs").glob("*.jsonl.zst")) - {log}
    config = read_eval_log_header(new).eval.config
    assert config["time_limit"] == {"$float": "inf"}


def test_overflowing_number_is_refused_up_front(tmp_path: Path) -> None:
    """-T x=1e400 would silently become infinity: one line, exit 2, no log."""
    (tmp_path / "seen.py").write_text(SEEN_TASK)
    done = run_cli("eval", "seen.py", "--model", "mockllm/model", "--display", "none",
                   "-T", "x=1e400", cwd=tmp_path, env={"SEEN_FILE": str(tmp_path / "s")})
    assert done.returncode == 2
    assert "bad -T x: number '1e400' is too large for a float" in done.stderr
    assert done.stderr.count("\n") == 1 and not (tmp_path / "logs").exists()


@task
def takes(value: Any = None) -> Task:
    return Task(dataset=[Sample(id=1, input="a", target="a")])


@pytest.mark.parametrize(("value", "reason"), [
    ({1: "one"}, "argument value has the key 1 (int)"),
    (object(), "argument value is of type object"),
    ({"ok": [{2, 3}]}, "argument value['ok'][0] is of type set"),
])
def test_unrecordable_task_arg_is_refused_before_the_run(
    tmp_path: Path, value: Any, reason: str
) -> None:
    """A task arg the header cannot hold exactly stops eval() before any log is written."""
    with pytest.raises(UsageError, match=re.escape(f"task 'takes': {reason}")):
        eval(takes(value), model="mockllm/model", display="none", log_dir=str(tmp_path))
    assert list(tmp_path.iterdir()) == []
