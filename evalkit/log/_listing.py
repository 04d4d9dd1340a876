"""Finding log files in a directory."""

from __future__ import annotations

import os
from pathlib import Path

LOG_SUFFIX = ".jsonl.zst"
DEFAULT_LOG_DIR = "logs"


def default_log_dir() -> str:
    """``$EVALKIT_LOG_DIR``, else ``./logs``."""
    return os.environ.get("EVALKIT_LOG_DIR") or DEFAULT_LOG_DIR


def list_eval_logs(log_dir: str | Path | None = None, recursive: bool = False) -> list[Path]:
    """Log files under ``log_dir``, newest first (names start with their creation time)."""
    root = Path(log_dir if log_dir is not None else default_log_dir())
    if not root.is_dir():
        return []
    pattern = f"**/*{LOG_SUFFIX}" if recursive else f"*{LOG_SUFFIX}"
    return sorted(root.glob(pattern), key=lambda path: path.name, reverse=True)
