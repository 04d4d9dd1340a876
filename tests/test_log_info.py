"""`evalkit --version`, and `evalkit log info`: a short summary, `--json` for everything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli

import evalkit
from evalkit._cli import main
from evalkit.log import (
    EvalDataset,
    EvalFooter,
    EvalMetric,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    EvalStats,
    LogWriter,
)
from evalkit.model import ModelUsage

IDS = list(range(2_000))


def _log(path: Path, footer: bool = True) -> Path:
    spec = EvalSpec(task="big", task_id="t1", run_id="r1", created="2026-01-02T03:04:05+00:00",
                    model="openai/gpt-4o", dataset=EvalDataset(samples=len(IDS), sample_ids=IDS),
                    replay={"seed": 7})
    with LogWriter(path) as writer:
        writer.write_header(spec)
        writer.write_sample(EvalSample(id=0, input="q"))
        if footer:
            writer.write_footer(EvalFooter(
                status="success",
                results=EvalResults(total_samples=2000, completed_samples=1990,
                                    errored_samples=10, scores=[EvalScore(
                                        name="match", metrics={"accuracy": EvalMetric(
                                            name="accuracy", value=0.75)})]),
                stats=EvalStats(started_at="2026-01-02T03:04:05+00:00",
                                completed_at="2026-01-02T03:05:05+00:00",
                                model_usage={"openai/gpt-4o": ModelUsage(
                                    input_tokens=1000, output_tokens=500, total_tokens=1500)},
                                cost=0.0075, pricing_source="builtin")))
    return path


def test_version_prints_the_package_version() -> None:
    """`evalkit --version` exits 0 printing evalkit's version."""
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"evalkit {evalkit.__version__}"


def test_info_is_a_short_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Task, model, status, counts, metrics, usage, cost, created, file; no sample ids."""
    path = _log(tmp_path / "big.jsonl.zst")
    assert main(["log", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) <= 12
    labels = [line.split()[0] for line in out.splitlines()]
    assert labels == ["task", "model", "status", "created", "samples", "metrics", "usage",
                      "cost", "file"]
    assert "big" in out and "openai/gpt-4o" in out and "success" in out
    assert "2000 total, 1990 completed, 10 errored" in out
    assert "match/accuracy=0.750" in out
    assert "1,500 tokens (1,000 in, 500 out)" in out
    assert "$0.0075 (builtin prices)" in out
    assert "2026-01-02 03:04:05 UTC (ran 60.0s)" in out
    assert str(path) in out and "1999" not in out


def test_info_json_prints_everything(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json: the whole header (sample ids, replay) and footer."""
    path = _log(tmp_path / "big.jsonl.zst")
    assert main(["log", "info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["eval"]["dataset"]["sample_ids"] == IDS
    assert info["eval"]["replay"] == {"seed": 7}
    assert info["stats"]["cost"] == 0.0075 and "samples" not in info


def test_info_of_a_run_without_footer_says_how_far_it_got(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A started (running or killed) run: the samples written so far."""
    path = _log(tmp_path / "cut.jsonl.zst", footer=False)
    assert main(["log", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "status    started" in out
    assert "1 of 2000 completed so far, 0 errored" in out
