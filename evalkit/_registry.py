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
import types
import typing
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar, cast, overload

from ._task import Task, TaskOrigin
from ._util._comma_list import split_comma_args
from ._util._context import bound
from ._util._hash import sha256_file
from ._util._paths import TASK_DIRECTORY
from .errors import EvalkitError, TaskLoadError, TaskNotFoundError, UsageError

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
            kwargs = split_comma_args(inner, kwargs)
            try:
                arguments = signature.bind(*args, **kwargs)
            except TypeError as exc:
                params = ", ".join(signature.parameters) or "none"
                raise UsageError(
                    f"bad arguments for task {task_name!r}: {exc}; its parameters: {params}"
                ) from None
            _check_text_for_numbers(inner, task_name, arguments.arguments)
            source = _source_file(inner)
            # Relative data paths in the task function resolve against its file's directory.
            with bound(TASK_DIRECTORY, Path(source).parent if source else None):
                made = _call_task(inner, task_name, args, kwargs)
            if not isinstance(made, Task):
                raise UsageError(f"@task {task_name!r} returned {type(made).__name__}, not a Task")
            made.origin = TaskOrigin(source, task_name, _by_name(arguments))
            if made.name is None:
                made.name = task_name
            return made

        setattr(make, _MARK, task_name)
        return cast(TaskFunction, make)

    return decorate(function) if function is not None else decorate


def _by_name(arguments: inspect.BoundArguments) -> dict[str, Any]:
    """The arguments as keywords a retry can call the task with (``**kwargs`` spread)."""
    spread: dict[str, Any] = {}
    for name, value in arguments.arguments.items():
        if arguments.signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
            spread.update(value)
        else:
            spread[name] = value
    return spread


def _call_task(
    function: Callable[..., Any], task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Call the ``@task`` body; an unexpected exception becomes one line naming the task."""
    try:
        return function(*args, **kwargs)
    except EvalkitError:
        raise  # already says what is wrong and how to fix it
    except Exception as exc:
        given = ", ".join(f"{key}={value!r}" for key, value in kwargs.items())
        with_args = f" with arguments {given}" if given else ""
        raise TaskLoadError(
            f"task {task_name!r} ({_where(function)}) raised {type(exc).__name__} while "
            f"building the task{with_args}: {exc}; fix the task function or its arguments "
            "(-T) (--debug shows the traceback)"
        ) from exc


def _check_text_for_numbers(
    function: Callable[..., Any], task_name: str, arguments: dict[str, Any]
) -> None:
    """Refuse text for an ``int``/``float``/``bool`` parameter: ``-T n=abc`` did not parse
    as a number, and the task would fail later with an obscure error (or, worse, not)."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations (a NameError, ...): nothing to check
        return
    for name, value in arguments.items():
        wanted = _scalar_types(hints.get(name))
        if isinstance(value, str) and wanted and str not in wanted:
            kind = " or ".join(t.__name__ for t in wanted)
            raise UsageError(
                f"task {task_name!r} ({_where(function)}): argument {name}={value!r} is not "
                f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} (parameter {name}: {kind}); "
                f"pass e.g. -T {name}={_EXAMPLES[wanted[0]]}"
            )


_EXAMPLES: dict[type, str] = {int: "10", float: "0.5", bool: "true"}


def _scalar_types(annotation: Any) -> list[type]:
    """``int``, ``float``, ``bool`` named by an annotation (``int | None`` too), else []."""
    options = typing.get_args(annotation) if typing.get_origin(annotation) in (
        typing.Union, types.UnionType) else (annotation,)
    options = tuple(option for option in options if option is not type(None))
    if not options or not all(option in (int, float, bool, str) for option in options):
        return []
    return list(options)


def _where(function: Callable[..., Any]) -> str:
    source = _source_file(function)
    if source is None:
        return "defined in Python"
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source


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
