"""A @task that cannot be built is one line naming file, task and argument, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import eval
from evalkit.errors import TaskLoadError, UsageError

TASKS = '''
from evalkit import Task, task
from evalkit.dataset import Sample

@task
def counted(n: int = 2, scale: float | None = None):
    return Task(dataset=[Sample(input=str(i), target="x") for i in range(n)])

@task
def broken(path: str = "missing.jsonl"):
    raise FileNotFoundError(f"no such file: {path}")
'''


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "tasks.py").write_text(TASKS)
    return tmp_path


@pytest.mark.parametrize(("target", "args", "expected"), [
    ("tasks.py@counted", ["-T", "n=abc"],
     "task 'counted' (tasks.py): argument n='abc' is not an int"),
    ("tasks.py@counted", ["-T", "scale=big"],
     "task 'counted' (tasks.py): argument scale='big' is not a float"),
    ("tasks.py@broken", ["-T", "path=data.jsonl"],
     "task 'broken' (tasks.py) raised FileNotFoundError while building the task with "
     "arguments path='data.jsonl': no such file: data.jsonl"),
])
def test_bad_task_build_is_one_line_exit_2(
    workdir: Path, target: str, args: list[str], expected: str
) -> None:
    """A raising @task body or text for an int parameter: one line, exit 2, no traceback."""
    done = run_cli("eval", target, *args, "--model", "mockllm/model", "--display", "none",
                   cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert expected in done.stderr
    assert not (workdir / "logs").exists() or not list((workdir / "logs").iterdir())


def test_debug_shows_the_traceback_of_a_raising_task(workdir: Path) -> None:
    """--debug shows the task body's own traceback, still exit 2."""
    done = run_cli("eval", "tasks.py@broken", "--model", "mockllm/model", "--display", "none",
                   "--debug", cwd=workdir)
    assert done.returncode == 2
    assert "Traceback" in done.stderr and 'raise FileNotFoundError(f"no such file' in done.stderr


def test_python_eval_raises_evalkit_errors(workdir: Path) -> None:
    """eval() raises the same clear errors (UsageError family), the cause chained."""
    with pytest.raises(TaskLoadError, match="raised FileNotFoundError") as info:
        eval(str(workdir / "tasks.py@broken"), model="mockllm/model", display="none",
             log_dir=str(workdir / "logs"))
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(UsageError, match="argument n='3' is not an int"):
        eval(str(workdir / "tasks.py@counted"), model="mockllm/model", display="none",
             task_args={"n": "3"}, log_dir=str(workdir / "logs"))
