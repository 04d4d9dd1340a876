"""eval_retry(): what is carried over, what re-runs, attempts, overrides, bad input."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, RETRY_FROM_MODULE, run_cli

from evalkit import Task, eval, eval_retry
from evalkit._eval._lineage import _decode_sample_line, scan_sample_line
from evalkit.dataset import Sample
from evalkit.errors import RetryError
from evalkit.log import (
    EvalError,
    EvalLimit,
    EvalLog,
    EvalSample,
    iter_sample_lines,
    read_eval_log,
    read_eval_log_header,
)
from evalkit.scorer import Score

SOURCE = REPO / "tests" / "retry_tasks" / "counting.py"


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    """A private copy of the counting task, so tests may edit or move it."""
    path = tmp_path / "counting.py"
    shutil.copy(SOURCE, path)
    return path


@pytest.fixture
def side_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The file the task's solver appends `id:epoch` to on every execution."""
    path = tmp_path / "executions.txt"
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(path))
    return path


def executions(side_file: Path) -> list[str]:
    runs = side_file.read_text().split() if side_file.exists() else []
    side_file.unlink(missing_ok=True)
    return runs


def first_run(task_file: Path, log_dir: Path, **options: object) -> EvalLog:
    [log] = eval(f"{task_file}@counting", model="mockllm/model", log_dir=str(log_dir),
                 display="none", **options)
    return log


def sha256(path: str | None) -> str:
    return hashlib.sha256(Path(str(path)).read_bytes()).hexdigest()


def sample_lines(log: EvalLog) -> dict[str, bytes]:
    lines = {}
    for line in iter_sample_lines(str(log.location)):
        sample = read_sample_key(line)
        lines[sample] = line
    return lines


def read_sample_key(line: bytes) -> str:
    import json

    record = json.loads(line)
    return f"{record['id']}:{record['epoch']}"


def test_retry_reruns_only_errored_and_unrun_samples_into_a_new_log(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Completed samples are copied byte for byte; the old log is untouched."""
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "3")
    first = first_run(task_file, log_dir, task_args={"n": 10}, max_samples=1)
    assert first.status == "error" and executions(side_file) == [f"{i}:1" for i in range(4)]
    before = sha256(first.location)
    monkeypatch.delenv("RETRY_TEST_FAIL_IDS")

    [retried] = eval_retry(str(first.location), display="none")

    assert sha256(first.location) == before
    assert retried.status == "success" and retried.location != first.location
    assert retried.eval.task_id == first.eval.task_id
    assert retried.eval.run_id != first.eval.run_id
    assert retried.eval.retry_of == first.eval.run_id
    assert Counter(executions(side_file)) == Counter(f"{i}:1" for i in range(3, 10))
    old, new = sample_lines(first), sample_lines(retried)
    assert sorted(new) == sorted(f"{i}:1" for i in range(10))
    assert all(new[key] == old[key] for key in ("0:1", "1:1", "2:1"))  # raw bytes reused
    [sample3] = [s for s in read_eval_log(str(retried.location)).samples or [] if s.id == 3]
    assert sample3.attempts == 2 and len(sample3.error_history) == 1
    assert "deterministic failure" in sample3.error_history[0].message


def test_never_run_samples_go_before_erred_ones_and_the_message_counts_them(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry runs unrun samples first; a threshold stop says how many never ran."""
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "1")
    first = first_run(task_file, log_dir, task_args={"n": 6}, max_samples=1)
    assert first.error is not None
    assert "4 samples did not run" in first.error.message
    assert "--continue-on-fail" in first.error.message
    executions(side_file)

    [retried] = eval_retry(str(first.location), display="none", max_samples=1)

    assert executions(side_file) == ["2:1", "3:1", "4:1", "5:1", "1:1"]
    assert retried.status == "error" and retried.results is not None
    assert retried.results.completed_samples == 5 and retried.results.errored_samples == 1


def test_max_attempts_stops_a_deterministic_failure(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sample that failed --max-attempts times across the lineage is not run again."""
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "2")
    log = first_run(task_file, log_dir, task_args={"n": 4}, max_samples=1)
    ran = [len(executions(side_file))]
    for _ in range(3):
        [log] = eval_retry(str(log.location), display="none", max_attempts=2)
        ran.append(len(executions(side_file)))

    assert ran[1:] == [2, 0, 0]  # retry 1: the unrun 3 and sample 2 (its 2nd attempt)
    assert log.status == "error" and log.results is not None
    assert log.results.errored_samples == 1 and log.results.completed_samples == 3
    [failed] = [s for s in read_eval_log(str(log.location)).samples or [] if s.error]
    assert failed.id == 2 and failed.attempts == 2


def test_until_complete_ends_when_nothing_retryable_is_left(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--until-complete stops once the failing sample used up its attempts."""
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "0")
    first = first_run(task_file, log_dir, task_args={"n": 3})
    executions(side_file)

    [final] = eval_retry(str(first.location), display="none", until_complete=True,
                         backoff=0, max_attempts=3)

    assert final.status == "error"
    assert executions(side_file).count("0:1") == 2  # attempts 2 and 3, then it stopped
    assert len(list(log_dir.glob("*.jsonl.zst"))) == 3


def test_until_complete_and_retry_attempts_finish_a_transient_failure(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path
) -> None:
    """eval(retry_attempts=N) retries in-process until the eval succeeds."""
    monkeypatch.setenv("RETRY_TEST_FAIL_ONCE_DIR", str(tmp_path))

    # Each run fixes at least one sample: the first failure stops a run, and
    # how many others fail before that depends on scheduling. Three retries
    # are enough for any interleaving.
    log = first_run(task_file, log_dir, task_args={"n": 3}, retry_attempts=3, retry_wait=0)

    assert log.status == "success"
    assert Counter(executions(side_file)) == {"0:1": 2, "1:1": 2, "2:1": 2}
    samples = read_eval_log(str(log.location)).samples or []
    assert [len(s.error_history) for s in samples] == [1, 1, 1]  # each failed once
    # A sample the first failure cancelled mid-run ran a third time: that counts.
    assert all(s.attempts in (2, 3) for s in samples)


def test_options_given_to_the_retry_override_the_logged_ones(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overrides win; model args merge with the recorded ones; the rest comes from the log."""
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "1")
    first = first_run(task_file, log_dir, task_args={"n": 5}, model_args={"delay": 0.001},
                      epochs=2, max_connections=4)

    [retried] = eval_retry(str(first.location), display="none", fail_on_error=False,
                           max_connections=2, model_args={"default_output": "output"})

    config = retried.eval.config
    assert config["fail_on_error"] is False and config["max_connections"] == 2
    assert config["epochs"] == 2
    assert retried.eval.model_args == {"delay": 0.001, "default_output": "output"}
    assert retried.eval.task_args == {"n": 5}
    assert retried.status == "success" and retried.results is not None
    assert retried.results.total_samples == 10 and retried.results.errored_samples == 2


def test_usage_adds_up_across_the_lineage(
    task_file: Path, log_dir: Path, side_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry's usage counts carried samples and failed attempts: a clean run's
    total plus the tokens the failed attempt of sample 4 spent."""
    clean = first_run(task_file, log_dir, task_args={"n": 6})
    monkeypatch.setenv("RETRY_TEST_FAIL_IDS", "4")
    broken = first_run(task_file, log_dir, task_args={"n": 6}, max_samples=1)
    monkeypatch.delenv("RETRY_TEST_FAIL_IDS")
    executions(side_file)

    [retried] = eval_retry(str(broken.location), display="none")

    assert clean.stats is not None and retried.stats is not None
    assert sorted(executions(side_file)) == ["4:1", "5:1"]
    assert retried.results is not None and retried.results.completed_samples == 6
    failed = next(s for s in read_eval_log(str(broken.location)).samples or [] if s.id == 4)
    wasted = failed.model_usage["mockllm/model"].total_tokens
    assert wasted > 0
    total = retried.stats.model_usage["mockllm/model"].total_tokens
    assert total == clean.stats.model_usage["mockllm/model"].total_tokens + wasted


def test_changed_dataset_reruns_changed_inputs_and_drops_missing_samples(
    task_file: Path, log_dir: Path, side_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Samples whose input changed re-run; samples gone from the dataset are dropped."""
    first = first_run(task_file, log_dir, task_args={"n": 5})
    executions(side_file)
    source = task_file.read_text()
    task_file.write_text(source.replace('input=f"{prefix} {i}"',
                                        'input=f"{prefix} {i}" + ("!" if i == 1 else "")')
                         .replace("for i in range(n)", "for i in range(n - 1)"))

    [retried] = eval_retry(str(first.location), display="none")

    assert executions(side_file) == ["1:1"]
    err = capsys.readouterr().err
    assert "1 samples' input changed" in err
    assert "1 samples in the earlier logs are no longer in the dataset" in err
    samples = read_eval_log(str(retried.location)).samples or []
    assert sorted(s.id for s in samples) == [0, 1, 2, 3]


def test_task_made_without_task_decorator_cannot_be_retried(log_dir: Path) -> None:
    """A plain Task has no recipe in its log: the error says why and what to do."""
    [log] = eval(Task(dataset=[Sample(input="hi", target="x")]), model="mockllm/model",
                 display="none")

    with pytest.raises(RetryError, match=r"not made by a @task function.*define it with @task"):
        eval_retry(str(log.location))


def test_moved_task_file_and_vanished_task_say_what_to_do(
    task_file: Path, log_dir: Path, side_file: Path
) -> None:
    """A moved file or a task no longer defined fails before anything is written."""
    first = first_run(task_file, log_dir, task_args={"n": 2})
    task_file.write_text(task_file.read_text().replace("def counting(", "def renamed("))
    with pytest.raises(RetryError, match=r"task .counting. not found.*restore the @task"):
        eval_retry(str(first.location))
    task_file.rename(task_file.with_name("elsewhere.py"))
    with pytest.raises(RetryError, match="no longer exists; put it back"):
        eval_retry(str(first.location))
    assert list(log_dir.iterdir()) == [Path(str(first.location))]


def test_shuffled_dataset_without_ids_is_refused(
    tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shuffled samples without ids cannot be matched to the log: refused with the reason."""
    data = tmp_path / "data.jsonl"
    data.write_text("".join(f'{{"input": "q{i}", "target": "a"}}\n' for i in range(4)))
    task_py = tmp_path / "shuffled.py"
    task_py.write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import json_dataset\n"
        f"@task\ndef shuffled():\n    return Task(dataset=json_dataset({str(data)!r}, "
        "shuffle=True, seed=1))\n")
    [log] = eval(str(task_py), model="mockllm/model", display="none")

    with pytest.raises(RetryError, match=r"no ids and it was shuffled.*give every sample an id"):
        eval_retry(str(log.location))


@pytest.mark.parametrize("content", [b"", b"not a log at all\n", b"\x28\xb5\x2f\xfdjunk"])
def test_bad_log_exits_2_and_changes_nothing(tmp_path: Path, content: bytes) -> None:
    """A file that is not a log, or is corrupt: a clear message, exit 2, no new file."""
    bad = tmp_path / "bad.jsonl.zst"
    bad.write_bytes(content)
    before = sorted(tmp_path.rglob("*"))

    done = run_cli("eval-retry", str(bad))

    assert done.returncode == 2
    assert "evalkit: error:" in done.stderr and str(bad) in done.stderr
    assert sorted(tmp_path.rglob("*")) == before and bad.read_bytes() == content


def test_cli_prints_the_resume_command_when_a_run_fails(task_file: Path, tmp_path: Path) -> None:
    """A run that ends without success shows the exact eval-retry command."""
    done = run_cli("eval", str(task_file), "--model", "mockllm/model", "-T", "n=3",
                   "--log-dir", str(tmp_path / "logs"), "--display", "none",
                   env={"RETRY_TEST_FAIL_IDS": "0"})

    assert done.returncode == 1
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    assert f"resume with: {RETRY_FROM_MODULE} {tmp_path / 'logs' / log.name}" in done.stderr
    retried = run_cli("eval-retry", str(log), "--max-attempts", "1", "--display", "none",
                      env={"RETRY_TEST_FAIL_IDS": "0"})
    assert retried.returncode == 1
    assert "failed 1 times (--max-attempts)" in retried.stderr
    assert read_eval_log_header(log).status == "error"


def _records() -> list[EvalSample]:
    error = EvalError(message="boom", traceback="tb", phase="solver", kind="RuntimeError")
    base: dict[str, Any] = {"input": "q", "target": "t", "input_hash": "ab" * 16}
    return [
        EvalSample(id=1, **base),
        EvalSample(id="a \"quoted\" \\ id", epoch=2, **base),
        EvalSample(id=3, error=error, limit=EvalLimit(type="messages", limit=3), attempts=2,
                   error_history=[error], **base),
        EvalSample(id=4, cancelled=True, attempts=0, **base),
        EvalSample(id=5, scores={"s": Score(value=1, metadata={"error": {"message": "x"}})},
                   **base),
        EvalSample(id=6, metadata={"cancelled": True, "attempts": 9}, **base),
        EvalSample(id=7, error=error, metadata={"error": {"message": "nested"}}, **base),
    ]


@pytest.mark.parametrize("record", _records(), ids=lambda r: str(r.id)[:8])
def test_fast_line_scan_agrees_with_full_decoding(record: EvalSample) -> None:
    """The regex scan of a sample line finds what json.loads finds, look-alike keys too."""
    line = record.model_dump_json(exclude_none=True).encode()

    fast, slow = scan_sample_line(line), _decode_sample_line(line)

    assert (fast.key, fast.input_hash, fast.status, fast.attempts) == \
        (slow.key, slow.input_hash, slow.status, slow.attempts)
    assert fast.key == (str(record.id), record.epoch) and fast.line == line
    expected = "cancelled" if record.cancelled else "error" if record.error else "completed"
    assert fast.status == expected and fast.attempts == record.attempts


def test_task_defined_in_a_notebook_cell_says_so(tmp_path: Path, log_dir: Path) -> None:
    """A log whose task file was a kernel's cell file explains why it cannot be rebuilt."""
    from evalkit._eval._retry import rebuild_task
    from evalkit.errors import RetryError
    from evalkit.log import EvalSpec

    spec = EvalSpec(task="t", task_id="a", run_id="b", created="now", model="mockllm/model",
                    task_file=str(tmp_path / "ipykernel_4242" / "123.py"),
                    task_registry_name="t")
    with pytest.raises(RetryError, match=r"defined in a notebook cell.*%%writefile"):
        rebuild_task(spec)
