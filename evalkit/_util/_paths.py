"""Where relative data paths in a task file point: the task file's directory.

``@task`` binds the directory of the task file while the task function runs,
so ``json_dataset("data.jsonl")`` in ``evals/gsm.py`` reads
``evals/data.jsonl`` whatever the current directory is (Inspect AI's rule).
A context variable, not ``os.chdir``: a process-wide chdir would move every
other relative path (the log directory among them) under a running eval.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path

TASK_DIRECTORY: ContextVar[Path | None] = ContextVar("evalkit_task_directory", default=None)


def resolve_data_path(path: str | Path) -> Path:
    """``path`` made absolute against the running task file's directory.

    Outside a task function, or when the file exists only relative to the
    current directory (code written before this rule), the current directory
    is used, so no path that worked before stops working.
    """
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate
    directory = TASK_DIRECTORY.get()
    if directory is not None:
        in_task_directory = directory / candidate
        if in_task_directory.exists() or not candidate.exists():
            return in_task_directory
    return candidate.resolve()
