"""The logs eval()/eval_retry() return read their samples from the file, lazily."""

from __future__ import annotations

import os
import pickle
import tracemalloc
from pathlib import Path

import pytest

from evalkit import Task, eval, eval_retry, task
from evalkit.dataset import Sample
from evalkit.log import (
    EvalFooter,
    EvalLog,
    EvalSample,
    EvalSpec,
    LogWriter,
    read_eval_log,
    read_eval_log_header,
)
from evalkit.log._lazy import LazySamples
from evalkit.scorer import includes
from evalkit.solver import Generate, TaskState, solver

_FAIL: set[int] = set()


@solver
def fail_listed() -> object:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id in _FAIL:
            raise RuntimeError(f"sample {state.sample_id} fails")
        return await generate(state)

    return solve


@task
def five() -> Task:
    return Task(dataset=[Sample(id=i, input=f"q{i}", target="output") for i in range(1, 6)],
                solver=fail_listed(), scorer=includes(), fail_on_error=False)


def test_returned_logs_index_count_and_iterate(log_dir: Path) -> None:
    """log.samples[0], [-1], slices, len() and iteration work on eval()'s result."""
    _FAIL.clear()
    [log] = eval(five(), model="mockllm/model", max_samples=1, display="none")
    samples = log.samples
    assert samples is not None
    assert len(samples) == 5
    assert samples[0].id == 1 and samples[-1].id == 5 and samples[2].id == 3
    assert [s.id for s in samples] == [1, 2, 3, 4, 5]
    assert [s.id for s in samples[1:4]] == [2, 3, 4]
    assert [s.id for s in samples[::-2]] == [5, 3, 1]
    assert [samples[i].id for i in range(len(samples))] == [1, 2, 3, 4, 5]
    with pytest.raises(IndexError):
        samples[5]
    assert samples[0].output is not None and "mockllm" in samples[0].output.completion


def test_retried_logs_are_lazy_too(log_dir: Path) -> None:
    """eval_retry()'s logs hold carried and re-run samples alike."""
    _FAIL.clear()
    _FAIL.add(2)
    [log] = eval(five(), model="mockllm/model", display="none")
    assert log.samples is not None and [s.error is not None for s in log.samples].count(True) == 1
    _FAIL.clear()
    [retried] = eval_retry(log, display="none")
    assert retried.samples is not None and len(retried.samples) == 5
    assert sorted(s.id for s in retried.samples if s.error is None) == [1, 2, 3, 4, 5]


def test_lazy_samples_dump_copy_and_pickle_like_a_list(log_dir: Path) -> None:
    """model_dump reads them; a pickled log (a notebook) still reads them; a header
    read stays samples=None (DESIGN §3)."""
    _FAIL.clear()
    [log] = eval(five(), model="mockllm/model", display="none")
    dumped = log.model_dump(mode="json")
    assert [s["id"] for s in dumped["samples"]] == [1, 2, 3, 4, 5]
    again = EvalLog.model_validate_json(log.model_dump_json())
    assert [s.id for s in again.samples or []] == [1, 2, 3, 4, 5]
    copied = pickle.loads(pickle.dumps(log))
    assert len(copied.samples) == 5
    assert read_eval_log_header(str(log.location)).samples is None
    assert isinstance(read_eval_log(str(log.location)).samples, list)


def _large_log(path: Path, count: int, size: int) -> None:
    spec = EvalSpec(task="large", task_id="t", run_id="r", created="2026-01-01T00:00:00+00:00",
                    model="mockllm/model")
    with LogWriter(path) as writer:
        writer.write_header(spec)
        for i in range(count):
            # Random text compresses about as much as real transcripts (a run of one
            # letter would decode a whole read chunk into megabytes at once).
            writer.write_sample(EvalSample(id=i, input=os.urandom(size // 2).hex(), target="y"))
        writer.write_footer(EvalFooter(status="success"))


def test_iterating_a_large_log_keeps_memory_flat(tmp_path: Path) -> None:
    """Peak memory over len(), iteration and samples[-1] stays far below the log's size."""
    path = tmp_path / "large.jsonl.zst"
    count, size = 2_000, 10_000  # 20 MB of samples once decoded
    _large_log(path, count, size)
    samples = LazySamples(path)
    tracemalloc.start()
    try:
        assert len(samples) == count
        seen = sum(1 for _ in samples)
        last = samples[-1]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count and last.id == count - 1
    assert peak < 2_000_000, f"peak {peak} bytes while reading {count * size} bytes of samples"


def test_a_log_without_footer_counts_its_sample_lines(tmp_path: Path) -> None:
    """An interrupted log (no index) still has a length: its complete sample lines."""
    path = tmp_path / "cut.jsonl.zst"
    spec = EvalSpec(task="cut", task_id="t", run_id="r", created="2026-01-01T00:00:00+00:00",
                    model="mockllm/model")
    with LogWriter(path) as writer:
        writer.write_header(spec)
        for i in range(3):
            writer.write_sample(EvalSample(id=i, input="q"))
    samples = LazySamples(path)
    assert len(samples) == 3 and samples[-1].id == 2
