"""The log directory the viewer serves: which names are logs, and nothing outside it.

Every file the server reads goes through :meth:`LogDirectory.resolve`, which
refuses any name that does not end in ``.jsonl.zst`` or that resolves (after
``..`` and symlinks) to a file outside the directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..log import list_eval_logs
from ..log._listing import LOG_SUFFIX


class LogDirectory:
    """A directory of logs (subdirectories included), addressed by relative name."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def resolve(self, name: str) -> Path | None:
        """The log file called ``name`` inside the directory, or None if there is none."""
        if not name.endswith(LOG_SUFFIX) or "\x00" in name or os.path.isabs(name):
            return None
        candidate = (self.root / name).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def names(self) -> list[str]:
        """Relative names (``/``-separated) of every log, newest file name first."""
        names = []
        for path in list_eval_logs(self.root, recursive=True):
            if self.resolve(path.relative_to(self.root).as_posix()) is not None:
                names.append(path.relative_to(self.root).as_posix())
        return names
