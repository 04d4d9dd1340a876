"""The header's config holds the effective value of every option, whoever set it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit import Epochs, Task, eval, eval_retry, task
from evalkit.dataset import Sample
from evalkit.log import read_eval_log_header

TASK_OPTIONS: dict[str, Any] = {
    "epochs": 2, "epochs_reducer": "max", "fail_on_error": 0.5, "continue_on_fail": True,
    "retry_on_error": 2, "max_messages": 3, "token_limit": 100, "time_limit": 30.0,
}


@task
def configured() -> Task:
    return Task(dataset=[Sample(id=1, input="a", target="a")], epochs=Epochs(2, "max"),
                fail_on_error=0.5, continue_on_fail=True, retry_on_error=2, message_limit=3,
                token_limit=100, time_limit=30)


def _config(path: str | None) -> dict[str, Any]:
    assert path is not None
    return read_eval_log_header(path).eval.config


def test_task_options_are_recorded(tmp_path: Path) -> None:
    """Options set on the Task (not on eval()) are in the header config."""
    [log] = eval(configured(), model="mockllm/model", display="none", log_dir=str(tmp_path))
    config = _config(log.location)
    assert {key: config.get(key) for key in TASK_OPTIONS} == TASK_OPTIONS


def test_eval_options_win_over_the_task(tmp_path: Path) -> None:
    """An eval() option overrides the Task's and is the value recorded."""
    overrides: dict[str, Any] = {
        "epochs": 1, "epochs_reducer": "min", "fail_on_error": False, "continue_on_fail": False,
        "retry_on_error": 0, "max_messages": 7, "token_limit": 50, "time_limit": 9.5,
    }
    [log] = eval(configured(), model="mockllm/model", display="none", log_dir=str(tmp_path),
                 **overrides)
    config = _config(log.location)
    assert {key: config.get(key) for key in overrides} == overrides


def test_defaults_are_recorded(tmp_path: Path) -> None:
    """A Task that sets nothing records the defaults that applied."""
    plain = Task(dataset=[Sample(id=1, input="a", target="a")])
    [log] = eval(plain, model="mockllm/model", display="none", log_dir=str(tmp_path))
    config = _config(log.location)
    assert config["epochs"] == 1 and config["epochs_reducer"] == "mean"
    assert config["fail_on_error"] is True and config["continue_on_fail"] is False
    assert config["retry_on_error"] == 0 and "max_messages" not in config


def test_retry_records_the_same_options(tmp_path: Path) -> None:
    """A retry applies (and records) the options the first run recorded."""
    task_file = tmp_path / "configured.py"
    task_file.write_text(
        "from evalkit import Epochs, Task, task\nfrom evalkit.dataset import Sample\n\n"
        "@task\ndef configured():\n"
        "    return Task(dataset=[Sample(id=1, input='a', target='a')], epochs=Epochs(2, 'max'),"
        " fail_on_error=0.5, continue_on_fail=True, retry_on_error=2, message_limit=3,"
        " token_limit=100, time_limit=30)\n")
    [first] = eval(str(task_file), model="mockllm/model", display="none",
                   log_dir=str(tmp_path / "logs"))
    [again] = eval_retry(str(first.location), display="none")
    assert again.eval.retry_of == first.eval.run_id
    config = _config(again.location)
    assert {key: config.get(key) for key in TASK_OPTIONS} == TASK_OPTIONS
