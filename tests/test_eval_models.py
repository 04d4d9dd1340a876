"""eval()'s model argument: Model objects, lists of models, and retrying their logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import Task, eval, eval_retry, task
from evalkit.dataset import Sample
from evalkit.errors import RetryError, UsageError
from evalkit.log import iter_lines, list_eval_logs, read_eval_log_header, read_eval_log_samples
from evalkit.model import ChatMessage, get_model
from evalkit.scorer import match

TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import match

@task
def doubling():
    return Task(dataset=[Sample(id=i, input=str(i), target=str(2 * i)) for i in (1, 2, 3)],
                scorer=match())

@task
def other():
    return Task(dataset=[Sample(id=1, input="x", target="x")], scorer=match())
'''


def _doubling() -> Task:
    return Task(dataset=[Sample(id=i, input=str(i), target=str(2 * i)) for i in (1, 2, 3)],
                scorer=match(), name="doubling")


def _completions(location: str | None) -> dict[int | str, str]:
    return {s.id: s.output.completion for s in read_eval_log_samples(str(location)) if s.output}


def test_a_model_object_keeps_its_custom_outputs(log_dir: Path) -> None:
    """get_model(..., custom_outputs=[...]) runs as given and is recorded by name + args."""
    model = get_model("mockllm/model", custom_outputs=["2", "4", "6"])
    [log] = eval(_doubling(), model=model, max_samples=1, display="none")
    assert log.status == "success"
    assert log.results is not None and log.results.scores[0].metrics["accuracy"].value == 1.0
    header = read_eval_log_header(str(log.location)).eval
    assert header.model == "mockllm/model"
    assert header.model_args == {"custom_outputs": ["2", "4", "6"]}


def test_a_list_of_models_writes_one_log_per_task_and_model(log_dir: Path) -> None:
    """Two models (a name and a Model object of the same name) give two logs."""
    doubler = get_model("mockllm/model", custom_outputs=lambda m: str(2 * int(m[-1].content)))
    logs = eval(_doubling(), model=["mockllm/model", doubler], display="none")
    assert [log.eval.model for log in logs] == ["mockllm/model", "mockllm/model"]
    assert len({log.location for log in logs}) == 2
    assert set(_completions(logs[0].location).values()) == {"Default output from mockllm/model"}
    assert _completions(logs[1].location) == {1: "2", 2: "4", 3: "6"}
    assert logs[1].eval.model_args == {"custom_outputs": "<function>"}
    assert len(list_eval_logs(log_dir)) == 2


def test_a_list_of_model_names_runs_each_task_with_each(tmp_path: Path, log_dir: Path) -> None:
    """Tasks x models: every pair has its own log."""
    path = tmp_path / "tasks.py"
    path.write_text(TASK_FILE)
    logs = eval(str(path), model=["mockllm/a", "mockllm/b"], display="none")
    assert sorted((log.eval.task, log.eval.model) for log in logs) == [
        ("doubling", "mockllm/a"), ("doubling", "mockllm/b"),
        ("other", "mockllm/a"), ("other", "mockllm/b")]


def test_model_names_given_twice_or_of_a_wrong_type_are_refused() -> None:
    """One clear error instead of a pydantic 'valid string' message."""
    with pytest.raises(UsageError, match="more than once"):
        eval(_doubling(), model=["mockllm/model", "mockllm/model"], display="none")
    with pytest.raises(UsageError, match="neither a model name"):
        eval(_doubling(), model=[3], display="none")  # type: ignore[list-item]  # the bad input


def test_cli_model_takes_several_models(tmp_path: Path) -> None:
    """--model a,b --model c: one log per task and model."""
    (tmp_path / "tasks.py").write_text(TASK_FILE)
    result = run_cli("eval", "tasks.py@other", "--model", "mockllm/a,mockllm/b",
                     "--model", "mockllm/c", "--display", "none", "--log-dir", "logs",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    models = sorted(read_eval_log_header(p).eval.model for p in list_eval_logs(tmp_path / "logs"))
    assert models == ["mockllm/a", "mockllm/b", "mockllm/c"]


def _flaky_answers() -> object:
    """Doubles its input, but fails the first call about sample 2."""
    failed: list[bool] = []

    def answer(messages: list[ChatMessage]) -> str:
        if messages[-1].content == "2" and not failed:
            failed.append(True)
            raise RuntimeError("flaky mock")
        return str(2 * int(messages[-1].content))

    return answer


@task
def doubling() -> Task:
    return _doubling()


def test_in_process_retry_reuses_the_model_object(log_dir: Path) -> None:
    """retry_attempts retries with the same Model object (its callable is not in the log)."""
    model = get_model("mockllm/model", custom_outputs=_flaky_answers())
    [log] = eval(doubling(), model=model, max_samples=1, retry_attempts=1, retry_wait=0,
                 display="none")
    assert log.status == "success" and log.eval.retry_of is not None
    assert _completions(log.location) == {1: "2", 2: "4", 3: "6"}


def test_retrying_a_callable_model_arg_says_to_pass_the_model_again(log_dir: Path) -> None:
    """The log holds '<function>': the retry refuses and says how to give it back."""
    model = get_model("mockllm/model", custom_outputs=_flaky_answers())
    [log] = eval(doubling(), model=model, display="none")
    assert log.status == "error"
    with pytest.raises(RetryError, match=r"custom_outputs=<function>.*model=get_model\("):
        eval_retry(log, display="none")
    again = get_model("mockllm/model", custom_outputs=lambda m: str(2 * int(m[-1].content)))
    [retried] = eval_retry(log, model=again, display="none")
    assert retried.status == "success"
    assert _completions(retried.location) == {1: "2", 2: "4", 3: "6"}
    assert retried.eval.model_args == {"custom_outputs": "<function>"}


def test_runs_waiting_for_a_task_slot_record_their_own_start(log_dir: Path) -> None:
    """With one task at a time, each model's run starts when the previous one ended."""
    first, second = eval(_doubling(), model=["mockllm/a", "mockllm/b"], max_tasks=1,
                         model_args={"delay": 0.01}, display="none")
    assert first.stats is not None and second.stats is not None
    assert first.stats.completed_at is not None and second.stats.started_at is not None
    assert second.stats.started_at >= first.stats.completed_at


def test_a_model_objects_api_key_is_not_recorded(log_dir: Path) -> None:
    """get_model(..., api_key=...) runs with its key; the log never holds it."""
    secret = "sk-model-object-SECRET-1234"
    model = get_model("mockllm/model", api_key=secret, custom_outputs=["2", "4", "6"])
    [log] = eval(_doubling(), model=model, max_samples=1, display="none")
    assert log.status == "success"
    assert not any(secret.encode() in line for line in iter_lines(str(log.location)))
