"""The fast header scan behind `evalkit log ls` agrees with the full reader, or steps aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.log import EvalDataset, EvalFooter, EvalResults, EvalSpec, LogWriter
from evalkit.log._listing import scan_header, summarize_log, summarize_logs


def _spec(**changes: object) -> EvalSpec:
    base = EvalSpec(
        task="tricky", task_id="t1", run_id="r1", created="2026-01-02T03:04:05.000006+00:00",
        model="mockllm/model", config={"epochs": 3, "seed": 1},
        task_args={"dataset": {"samples": 999}, "text": 'has "quotes", {braces} and \\ too'},
        dataset=EvalDataset(name="d", samples=4, sample_ids=[1, "two", 3, 4]),
        replay={"packages": {"x": "1"}},
    )
    return base.model_copy(update=changes)


def _line(spec: EvalSpec) -> bytes:
    return spec.model_dump_json(exclude_none=True).encode()


def test_scan_reads_the_shown_fields_despite_tricky_args() -> None:
    """Task args with a 'dataset' key, quotes and braces do not confuse the scan."""
    fields = scan_header(_line(_spec()))
    assert fields is not None
    assert {key: fields[key] for key in ("task", "task_id", "run_id", "created", "model",
                                         "samples", "epochs")} == {
        "task": "tricky", "task_id": "t1", "run_id": "r1",
        "created": "2026-01-02T03:04:05.000006+00:00", "model": "mockllm/model",
        "samples": 4, "epochs": 3}


def test_scan_handles_fields_in_another_order() -> None:
    """A header whose dataset comes first (another writer) is still read right."""
    data = json.loads(_line(_spec()))
    reordered = {"dataset": data.pop("dataset"), **data}
    fields = scan_header(json.dumps(reordered).encode())
    assert fields is not None and (fields["samples"], fields["task"]) == (4, "tricky")


@pytest.mark.parametrize("line", [
    b"", b"not json", b'{"type":"sample","id":1}', b'{"type":"header","version":99}',
    b'{"type":"header","version":1,"task":"t"', None,
])
def test_scan_steps_aside_for_unexpected_lines(line: bytes | None) -> None:
    """Anything unexpected gives None, so the full reader decides (and explains)."""
    assert scan_header(line) is None


def test_summary_of_other_version_is_skipped_with_reason(tmp_path: Path) -> None:
    """A log of another format version is listed as skipped, with the reader's message."""
    with LogWriter(tmp_path / "2026-01-01T00-00-00_old_r.jsonl.zst") as writer:
        writer.write_header(_spec(version=2))
    summaries, skipped = summarize_logs(tmp_path)
    assert summaries == []
    [bad] = skipped
    assert "log format version 2 is not supported" in bad.reason


def test_summary_of_started_log_uses_epochs(tmp_path: Path) -> None:
    """No footer: total is samples x epochs from the header, nothing done yet."""
    path = tmp_path / "started.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(_spec())
    summary = summarize_log(path)
    assert (summary.status, summary.done, summary.errors, summary.total, summary.cost) == (
        "started", 0, 0, 12, None)


def test_summary_of_finished_log_uses_footer(tmp_path: Path) -> None:
    """With a footer, counts and cost come from it (no sample is decoded)."""
    path = tmp_path / "done.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        footer = EvalFooter(status="error", results=EvalResults(
            total_samples=12, completed_samples=7, errored_samples=5))
        footer.stats.cost = 0.25
        writer.write_footer(footer)
    summary = summarize_log(path)
    assert (summary.status, summary.done, summary.errors, summary.total, summary.cost) == (
        "error", 7, 5, 12, 0.25)
    assert summary.as_dict()["log"] == str(path)
