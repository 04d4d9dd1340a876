"""Never lose, never double: killed logs read whole, corrupt frames cost only their
own samples, and bytes appended after the footer are ignored."""

from __future__ import annotations

import random
from pathlib import Path

from evalkit.log import EvalSample, EvalSpec, LogWriter, read_eval_log_samples


def _spec() -> EvalSpec:
    return EvalSpec(task="t", task_id="tid", run_id="rid", created="now", model="mockllm/model")


def _varied_sample(rng: random.Random, sample_id: int) -> EvalSample:
    """A sample whose line is short or long, compressible or not."""
    size = rng.choice([10, 100, 1000, 5000, 20000])
    text = rng.randbytes(size // 2).hex() if rng.random() < 0.5 else "ab" * (size // 2)
    return EvalSample(id=sample_id, input=text, target="t")


def test_unterminated_logs_read_every_sample_written(tmp_path: Path) -> None:
    """A log killed before its footer reads back exactly the N samples written,
    for every N from 1 to 400 (any frame may end at a read-buffer boundary)."""
    rng = random.Random(12)
    path = tmp_path / "unterminated.jsonl.zst"
    ends = []  # the file's size after each sample: what a kill -9 right then leaves
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        for sample_id in range(1, 401):
            writer.write_sample(_varied_sample(rng, sample_id))
            ends.append(path.stat().st_size)
    data = path.read_bytes()
    short = []
    for n, end in enumerate(ends, start=1):
        cut = tmp_path / f"killed-{n}.jsonl.zst"
        cut.write_bytes(data[:end])
        ids = [sample.id for sample in read_eval_log_samples(cut)]
        if ids != list(range(1, n + 1)):
            short.append((n, len(ids)))
        cut.unlink()
    assert short == []
