"""When a run's log cannot be written (a full disk, an I/O error).

The writer keeps only whole records (it cuts a failed write back off the
file), so what is on disk is exactly what a retry can use. This module
decides which log to resume from and says so in one message: a log that
holds nothing of this run's own (no sample ran and was saved, e.g. the header
itself did not fit) is removed, so an empty or useless log is never the one
to resume; the log a retry started from is named instead.
"""

from __future__ import annotations

import errno
from pathlib import Path

from .._util._signals import note_log
from ..log import EvalError

__all__ = ["UnwritableLog"]


class UnwritableLog:
    """The outcome of a run whose log could not be written."""

    def __init__(self, exc: OSError, path: Path, source: Path | None, new_samples: int) -> None:
        self.exc = exc
        self.path = path
        self.removed = new_samples == 0
        if self.removed:
            path.unlink(missing_ok=True)
        self.resume_from = source if self.removed else path
        """The newest log that still holds everything saved, or None (nothing was)."""

    def note(self, task_id: str) -> None:
        if self.resume_from is not None:
            note_log(task_id, self.resume_from)

    def error(self, safe: int, total: int) -> EvalError:
        """The eval error: what failed, how many samples are safe, what to do."""
        full = self.exc.errno in (errno.ENOSPC, errno.EDQUOT)
        what = (f"the disk is full ({self.exc.strerror}) writing {self.path}" if full else
                f"cannot write the log {self.path} ({self.exc.strerror or self.exc})")
        fix = "free some space" if full else "fix the cause"
        if self.resume_from is None:
            message = (f"{what}: no sample was saved and the empty log was removed; {fix}, "
                       "then run the eval again")
        elif self.removed:
            message = (f"{what}: it held nothing new and was removed; {safe} of {total} "
                       f"samples are complete and safe in {self.resume_from}; {fix}, then "
                       "resume it")
        else:
            message = (f"{what}: {safe} of {total} samples are complete and safe in it; "
                       f"{fix}, then resume it")
        return EvalError(message=message, kind="disk_full" if full else "write_error")
