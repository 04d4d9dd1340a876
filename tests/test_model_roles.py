"""Model roles: --model-role / eval(model_roles=) bind get_model(role=...) in every sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import Task, eval, eval_retry
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log_header, read_eval_log_samples
from evalkit.model import get_model
from evalkit.scorer import Score, Scorer, Target, accuracy, model_graded_qa, scorer
from evalkit.solver import TaskState

TASK = '''
import os
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.model import get_model
from evalkit.scorer import Score, accuracy, scorer

@scorer(metrics=[accuracy()])
def role_name():
    async def score(state, target):
        if os.environ.get("ROLE_TEST_FAIL"):
            raise RuntimeError("scorer failed on purpose")
        return Score(value=1, answer=get_model(role="grader").name)
    return score

@task
def roles():
    return Task(dataset=[Sample(id=1, input="hi", target="x")], scorer=role_name())
'''

seen: list[int] = []


@scorer(metrics=[accuracy()])
def grader_name() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        grader = get_model(role="grader")
        seen.append(id(grader))
        return Score(value=1, answer=grader.name)

    return score


def _answers(path: str | None) -> list[str | None]:
    assert path is not None
    return [next(iter(sample.scores.values())).answer
            for sample in read_eval_log_samples(path) if sample.scores]


def test_eval_model_roles_bind_one_model_for_every_sample(tmp_path: Path) -> None:
    """eval(model_roles=) makes get_model(role=) return that model, one object per eval,
    and the role is recorded in the header."""
    seen.clear()
    task = Task(dataset=[Sample(id=i, input=str(i), target="x") for i in range(3)],
                scorer=grader_name())
    [log] = eval(task, model="mockllm/model", model_roles={"grader": "mockllm/grader"},
                 display="none", log_dir=str(tmp_path))
    assert log.status == "success"
    assert _answers(log.location) == ["mockllm/grader"] * 3
    assert len(set(seen)) == 1
    assert read_eval_log_header(str(log.location)).eval.config["model_roles"] == {
        "grader": "mockllm/grader"}


def test_without_a_role_the_evaluated_model_answers(tmp_path: Path) -> None:
    """get_model(role="grader") with no role bound is the evaluated model."""
    task = Task(dataset=[Sample(id=1, input="a", target="x")], scorer=grader_name())
    [log] = eval(task, model="mockllm/model", display="none", log_dir=str(tmp_path))
    assert _answers(log.location) == ["mockllm/model"]
    assert "model_roles" not in read_eval_log_header(str(log.location)).eval.config


def test_model_graded_qa_uses_the_grader_role(tmp_path: Path) -> None:
    """The built-in grader calls the model bound to the grader role."""
    task = Task(dataset=[Sample(id=1, input="a", target="x")], scorer=model_graded_qa())
    [log] = eval(task, model="mockllm/model", model_roles={"grader": "mockllm/grader"},
                 display="none", log_dir=str(tmp_path))
    [sample] = list(read_eval_log_samples(str(log.location)))
    called = [event.model for event in sample.events if getattr(event, "model", None)]
    assert called == ["mockllm/model", "mockllm/grader"]


def test_cli_model_role_and_retry_keep_the_role(tmp_path: Path) -> None:
    """--model-role grader=... reaches the scorer; eval-retry rebuilds the role from the
    header for the samples it re-runs."""
    (tmp_path / "tasks.py").write_text(TASK)
    done = run_cli("eval", "tasks.py", "--model", "mockllm/model", "--model-role",
                   "grader=mockllm/grader", "--no-fail-on-error", "--display", "none",
                   cwd=tmp_path, env={"ROLE_TEST_FAIL": "1"})
    assert done.returncode == 0, done.stderr
    [first] = sorted((tmp_path / "logs").glob("*.jsonl.zst"))
    assert _answers(str(first)) == []  # the scorer failed: a sample error
    again = run_cli("eval-retry", str(first), "--display", "none", cwd=tmp_path,
                    env={"ROLE_TEST_FAIL": ""})
    assert again.returncode == 0, again.stderr
    [retried] = [path for path in (tmp_path / "logs").glob("*.jsonl.zst") if path != first]
    assert _answers(str(retried)) == ["mockllm/grader"]
    assert read_eval_log_header(str(retried)).eval.config["model_roles"] == {
        "grader": "mockllm/grader"}


def test_retry_of_roles_from_python(tmp_path: Path) -> None:
    """eval_retry() rebuilds the roles recorded by eval(model_roles=)."""
    (tmp_path / "tasks.py").write_text(TASK)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ROLE_TEST_FAIL", "1")
        [first] = eval(str(tmp_path / "tasks.py"), model="mockllm/model",
                       model_roles={"grader": "mockllm/grader"}, fail_on_error=False,
                       display="none", log_dir=str(tmp_path / "logs"))
    [again] = eval_retry(str(first.location), display="none")
    assert _answers(again.location) == ["mockllm/grader"]


@pytest.mark.parametrize("role", ["grader", "grader=", "=mockllm/model", "grader=model"])
def test_bad_model_role_is_a_usage_error(tmp_path: Path, role: str) -> None:
    """A --model-role that is not ROLE=provider/name exits 2 with one line."""
    (tmp_path / "tasks.py").write_text(TASK)
    done = run_cli("eval", "tasks.py", "--model", "mockllm/model", "--model-role", role,
                   "--display", "none", cwd=tmp_path)
    assert done.returncode == 2
    assert "model" in done.stderr and "Traceback" not in done.stderr


def test_eval_refuses_a_role_without_provider() -> None:
    """eval(model_roles=) checks each model name up front."""
    with pytest.raises(UsageError, match="provider/name"):
        eval(Task(dataset=[Sample(input="a")]), model="mockllm/model",
             model_roles={"grader": "gpt-4o"}, display="none")
