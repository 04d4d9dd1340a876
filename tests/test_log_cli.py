"""`evalkit log ls | info | dump | samples` over finished, failed, running and broken logs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool, run_cli

from evalkit import Task, eval
from evalkit._cli import main
from evalkit.dataset import Sample
from evalkit.log import EvalError, EvalSample, LogWriter, read_eval_log, read_eval_log_header
from evalkit.scorer import includes
from evalkit.solver import Generate, TaskState, generate, solver


@solver
def fail_on_two() -> Any:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id == 2:
            raise RuntimeError("sample two always fails")
        return await generate(state)

    return solve


def _samples(count: int) -> list[Sample]:
    return [Sample(input=f"question {n}", target="Default", id=n) for n in range(1, count + 1)]


def _eval(log_dir: Path, task: Task, **options: Any) -> Path:
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none", **options)
    assert log.location is not None
    return Path(log.location)


def _running_copy(finished: Path, log_dir: Path, written: list[EvalSample]) -> Path:
    """A log with header and samples but no footer: a run still going (or killed)."""
    spec = read_eval_log_header(finished).eval.model_copy(update={
        "run_id": "runningrunning01", "created": "2099-01-01T00:00:00.000001+00:00",
        "task": "running"})
    path = log_dir / "2099-01-01T00-00-00_running_runningrunning01.jsonl.zst"
    writer = LogWriter(path)
    writer.write_header(spec)
    for sample in written:
        writer.write_sample(sample)
    writer.close()  # no footer on purpose
    return path


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One directory: a success, an error, a running log, a truncated log and a non-log."""
    log_dir = tmp_path_factory.mktemp("logs")
    success = _eval(log_dir, Task(dataset=_samples(3), scorer=includes(), name="good",
                                  max_messages=1))
    error = _eval(log_dir, Task(dataset=_samples(3), solver=[fail_on_two(), generate()],
                                scorer=includes(), name="bad"), max_samples=1)
    finished = read_eval_log(success).samples
    assert finished is not None
    failed = finished[1].model_copy(update={"error": EvalError(
        message="boom", phase="solver", kind="RuntimeError"), "scores": None})
    running = _running_copy(success, log_dir, [finished[0], failed])
    truncated = log_dir / f"2000-01-01T00-00-00_{success.name[20:]}"
    data = success.read_bytes()
    truncated.write_bytes(data[: len(data) - 20])  # index trailer gone: reads as no footer
    (log_dir / "1999-01-01T00-00-00_junk_0.jsonl.zst").write_text("not a log\n")
    return {"dir": log_dir, "success": success, "error": error, "running": running,
            "truncated": truncated}


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _ls_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, out, _ = _cli(capsys, "log", "ls", *args, "--json")
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def test_ls_json_rows_newest_first(logs: dict[str, Path],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """--json: one object per run, newest first, with status, counts and cost."""
    rows = _ls_json(capsys, str(logs["dir"]))
    assert [row["log"] for row in rows] == [str(logs[name]) for name in
                                            ("running", "error", "success", "truncated")]
    by_name = {Path(row["log"]): row for row in rows}
    good = by_name[logs["success"]]
    assert (good["status"], good["done"], good["total"], good["errors"]) == ("success", 3, 3, 0)
    assert good["task"] == "good" and good["model"] == "mockllm/model"
    bad = by_name[logs["error"]]
    assert (bad["status"], bad["done"], bad["total"], bad["errors"]) == ("error", 1, 3, 1)
    assert bad["cost"] == 0.0  # mockllm is free, and priced as such


def test_ls_running_log_is_started_with_counts(logs: dict[str, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A log with no footer shows as started (not an error), counting samples written."""
    [row] = _ls_json(capsys, str(logs["dir"]), "--status", "started")[:1]
    assert row["log"] == str(logs["running"])
    assert (row["status"], row["done"], row["errors"], row["total"], row["cost"]) == (
        "started", 1, 1, 3, None)


def test_ls_truncated_log_reads_as_started(logs: dict[str, Path],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A finished log cut short loses its footer: started, with all its samples counted."""
    rows = _ls_json(capsys, str(logs["dir"]), "--status", "started")
    [row] = [row for row in rows if row["log"] == str(logs["truncated"])]
    assert (row["done"], row["errors"], row["total"]) == (3, 0, 3)


def test_ls_status_filter(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """--status keeps only runs with that status."""
    assert [row["log"] for row in _ls_json(capsys, str(logs["dir"]), "--status", "error")] == [
        str(logs["error"])]
    assert _ls_json(capsys, str(logs["dir"]), "--status", "cancelled") == []


def test_ls_table_is_aligned_and_warns_about_junk(logs: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal table with --all: a header, one aligned row per run, each lineage's
    earlier runs under its latest; unreadable files are warned."""
    code, out, err = _cli(capsys, "log", "ls", str(logs["dir"]), "--all")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["created", "(UTC)", "task", "model", "status", "samples",
                                "errors", "cost", "runs", "log"]
    assert len(lines) == 5
    status_column, runs_column = lines[0].index("status"), lines[0].index("runs")
    assert [line[status_column:].split()[0] for line in lines[1:]] == [
        "started", "success", "started", "error"]
    assert [line[runs_column:].split()[0] for line in lines[1:]] == ["3", "<-", "<-", "1"]
    assert "1/3" in lines[1] and "$0.0000" in lines[4]
    assert "warning: skipped 1999-01-01T00-00-00_junk_0.jsonl.zst" in err


def test_ls_table_shows_each_lineage_once_with_its_latest_state(
        logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Without --all: a row per lineage (a run and its retries), its latest run's state."""
    code, out, _ = _cli(capsys, "log", "ls", str(logs["dir"]))
    assert code == 0
    lines = out.splitlines()
    status_column, runs_column = lines[0].index("status"), lines[0].index("runs")
    assert [(line[status_column:].split()[0], line[runs_column:].split()[0])
            for line in lines[1:]] == [("started", "3"), ("error", "1")]
    assert logs["running"].name in lines[1] and logs["error"].name in lines[2]


def test_ls_empty_and_missing_directories(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """An empty directory says so; a missing one is a usage error (exit 2)."""
    (tmp_path / "empty").mkdir()
    assert _cli(capsys, "log", "ls", str(tmp_path / "empty")) == (
        0, "", f"no logs in {tmp_path / 'empty'}\n")
    code, _, err = _cli(capsys, "log", "ls", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err


def test_ls_default_dir_from_environment(logs: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Without DIR, `log ls` reads $EVALKIT_LOG_DIR."""
    monkeypatch.setenv("EVALKIT_LOG_DIR", str(logs["dir"]))
    assert len(_ls_json(capsys)) == 4


def test_ls_in_a_subprocess(logs: dict[str, Path]) -> None:
    """The real command line: exit 0, the table on stdout, warnings on stderr."""
    done = run_cli("log", "ls", str(logs["dir"]), "--status", "success")
    assert done.returncode == 0
    [header, row] = done.stdout.splitlines()
    assert header.startswith("created (UTC)") and logs["success"].name in row
    assert "junk" in done.stderr


def test_info_finished_log(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`log info --json`: header and results as JSON, no samples."""
    code, out, _ = _cli(capsys, "log", "info", str(logs["error"]), "--json")
    info = json.loads(out)
    assert code == 0 and info["status"] == "error"
    assert info["eval"]["task"] == "bad" and "replay" in info["eval"]
    assert info["results"]["errored_samples"] == 1
    assert "samples" not in info


def test_info_running_log_shows_progress(logs: dict[str, Path],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A running log has no results yet; info shows how far it got."""
    _, out, _ = _cli(capsys, "log", "info", str(logs["running"]), "--json")
    info = json.loads(out)
    assert info["status"] == "started" and "results" not in info
    assert info["progress"] == {"completed_samples": 1, "errored_samples": 1,
                                "total_samples": 3}


def test_info_bad_file_is_usage_error(logs: dict[str, Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not a log: exit 2 and a message naming it."""
    code, _, err = _cli(capsys, "log", "info", str(logs["dir"] / "1999-01-01T00-00-00_junk_0.jsonl.zst"))
    assert code == 2 and "not an evalkit log" in err


def test_dump_is_json_lines_for_jq(logs: dict[str, Path]) -> None:
    """`log dump` pipes to jq: header, each sample, footer."""
    jq = require_tool("jq")
    dump = run_cli("log", "dump", str(logs["error"]))
    assert dump.returncode == 0
    types = subprocess.run([jq, "-r", ".type"], input=dump.stdout, capture_output=True,
                           text=True, check=True).stdout.split()
    assert types[0] == "header" and types[-1] == "footer"
    assert types.count("sample") == 2


def test_dump_running_log(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A running log dumps its header and every sample written so far."""
    code, out, _ = _cli(capsys, "log", "dump", str(logs["running"]))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [record["type"] for record in records] == ["header", "sample", "sample"]


def test_dump_into_a_closed_pipe_is_quiet(tmp_path: Path, logs: dict[str, Path]) -> None:
    """`evalkit log dump LOG | head -1` on a big log: no traceback, exit 0."""
    big = tmp_path / "big.jsonl.zst"
    sample = read_eval_log(logs["success"]).samples[0]  # type: ignore[index]  # has samples
    with LogWriter(big) as writer:
        writer.write_header(read_eval_log_header(logs["success"]).eval)
        writer.write_sample_lines([sample.model_dump_json().encode() + b"\n"] * 2000)
    done = subprocess.run(
        f"set -o pipefail; {sys.executable} -m evalkit log dump {big} | head -1",
        shell=True, capture_output=True, text=True, executable="/bin/bash", check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert json.loads(done.stdout)["type"] == "header"


def test_samples_filters(logs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """`log samples`: one line per sample; --errors and --limited select outcomes."""
    _, out, _ = _cli(capsys, "log", "samples", str(logs["error"]))
    assert [line.split("\t")[:3] for line in out.splitlines()] == [
        ["1", "epoch 1", "ok"],
        ["2", "epoch 1", "error[solver/RuntimeError] RuntimeError: sample two always fails"]]
    _, out, _ = _cli(capsys, "log", "samples", str(logs["error"]), "--errors")
    assert [line.split("\t")[0] for line in out.splitlines()] == ["2"]
    _, out, _ = _cli(capsys, "log", "samples", str(logs["success"]), "--limited")
    assert [line.split("\t")[2] for line in out.splitlines()] == ["limit[messages=1]"] * 3
    _, out, _ = _cli(capsys, "log", "samples", str(logs["error"]), "--limited")
    assert out == ""


def test_fast_summary_matches_the_full_reader(logs: dict[str, Path]) -> None:
    """The header scan used by `log ls` gives what the validating reader gives."""
    from evalkit.log._listing import _summary_of, summarize_log

    for name in ("success", "error", "running", "truncated"):
        path = logs[name]
        assert summarize_log(path) == _summary_of(read_eval_log_header(path), path)
