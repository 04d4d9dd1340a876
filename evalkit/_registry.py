"""``@task`` and loading tasks from files.

``@task`` marks a function rather than filling a global table: a task file is
imported and scanned for marked functions, so there is no registry state for
tests to reset.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast, overload

from ._task import Task, TaskOrigin
from ._util._context import bound
from ._util._hash import sha256_file
from ._util._paths import TASK_DIRECTORY
from .errors import TaskLoadError, TaskNotFoundError, UsageError

TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Task])
_MARK = "__evalkit_task__"


@overload
def task(function: TaskFunction) -> TaskFunction: ...


@overload
def task(*, name: str | None = None) -> Callable[[TaskFunction], TaskFunction]: ...


def task(
    function: TaskFunction | None = None, *, name: str | None = None
) -> TaskFunction | Callable[[TaskFunction], TaskFunction]:
    """Register a function returning a ``Task`` so its runs can be retried from a log."""

    def decorate(inner: TaskFunction) -> TaskFunction:
        task_name = name or inner.__name__
        signature = inspect.signature(inner)

        @functools.wraps(inner)
        def make(*args: Any, **kwargs: Any) -> Task:
            try:
                arguments = signature.bind(*args, **kwargs)
            except TypeError as exc:
                params = ", ".join(signature.parameters) or "none"
                raise UsageError(
                    f"bad arguments for task {task_name!r}: {exc}; its parameters: {params}"
                ) from None
            source = _source_file(inner)
            # Relative data paths in the task function resolve against its file's directory.
            with bound(TASK_DIRECTORY, Path(source).parent if source else None):
                made = inner(*args, **kwargs)
            if not isinstance(made, Task):
                raise UsageError(f"@task {task_name!r} returned {type(made).__name__}, not a Task")
            made.origin = TaskOrigin(source, task_name, dict(arguments.arguments))
            if made.name is None:
                made.name = task_name
            return made

        setattr(make, _MARK, task_name)
        return cast(TaskFunction, make)

    return decorate(function) if function is not None else decorate


def _source_file(function: Callable[..., Any]) -> str | None:
    try:
        return str(Path(inspect.getfile(function)).resolve())
    except (TypeError, OSError):
        return None


def registered_name(value: object) -> str | None:
    """The registered name of a ``@task`` function, else ``None``."""
    name = getattr(value, _MARK, None)
    return name if isinstance(name, str) else None


def load_task_file(path: str | Path) -> ModuleType:
    """Import a task file as a fresh module (its directory first on ``sys.path``)."""
    source = Path(path).resolve()
    if not source.is_file():
        raise TaskNotFoundError(
            f"task file {str(path)!r} not found; give the path of a .py file that defines "
            "@task functions"
        )
    # Keyed by path and content: the same file imports once, an edited or another
    # file with equal content imports afresh (each records its own origin).
    path_hash = hashlib.sha256(str(source).encode()).hexdigest()[:8]
    module_name = f"_evalkit_task_{path_hash}_{sha256_file(source)[:8]}_{source.stem}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        raise TaskNotFoundError(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(source.parent))
    sys.modules[module_name] = module
    try:
        with bound(TASK_DIRECTORY, source.parent):  # module-level data loads, too
            spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        raise _load_error(path, exc) from exc
    except BaseException:
        del sys.modules[module_name]
        raise
    finally:
        sys.path.remove(str(source.parent))
    return module


def _load_error(path: str | Path, exc: Exception) -> TaskLoadError:
    if isinstance(exc, SyntaxError):
        return TaskLoadError(f"{path}:{exc.lineno}: syntax error: {exc.msg}; fix the task file")
    return TaskLoadError(f"importing {path} failed: {type(exc).__name__}: {exc} "
                         "(--debug shows the traceback)")


def tasks_in_module(module: ModuleType) -> dict[str, Callable[..., Task]]:
    """The ``@task`` functions a module defines, by registered name."""
    found: dict[str, Callable[..., Task]] = {}
    for value in vars(module).values():
        name = registered_name(value)
        if name is not None and getattr(value, "__module__", None) == module.__name__:
            found[name] = value
    return found


def find_task(path: str | Path, name: str | None) -> list[tuple[str, Callable[..., Task]]]:
    """The task called ``name`` in the file at ``path`` (all of them if ``name`` is None)."""
    found = tasks_in_module(load_task_file(path))
    if not found:
        raise TaskNotFoundError(f"{path} defines no @task functions; decorate one with @task")
    if name is None:
        return sorted(found.items())
    if name not in found:
        raise TaskNotFoundError(
            f"task {name!r} not found in {path}; tasks there: {', '.join(sorted(found))}"
        )
    return [(name, found[name])]
