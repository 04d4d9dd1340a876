"""Turning what ``eval()`` was given (tasks, functions, file paths) into Tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .._registry import find_task, registered_name
from .._task import Task
from ..errors import UsageError

TaskSpec = Task | Callable[..., Task] | str
Tasks = TaskSpec | Sequence[TaskSpec]


def resolve_tasks(tasks: Tasks, task_args: dict[str, Any]) -> list[Task]:
    """Every task named by ``tasks``, with ``task_args`` passed to ``@task`` functions."""
    items = [tasks] if isinstance(tasks, (Task, str)) or callable(tasks) else list(tasks)
    if not items:
        raise UsageError("no tasks given; name a task file, e.g. evalkit eval examples/arithmetic.py")
    resolved: list[Task] = []
    for item in items:
        resolved.extend(_resolve_one(item, task_args))
    return resolved


def _resolve_one(item: TaskSpec, task_args: dict[str, Any]) -> list[Task]:
    if isinstance(item, Task):
        if task_args:
            raise UsageError("task arguments (-T) need a @task function or file, not a Task")
        return [item]
    if isinstance(item, str):
        path, _, name = item.partition("@")
        return [function(**task_args) for _, function in find_task(path, name or None)]
    if registered_name(item) is not None:
        return [item(**task_args)]
    raise UsageError(f"{item!r} is not a Task, a @task function or a task file path")
