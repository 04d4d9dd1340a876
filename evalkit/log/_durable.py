"""Durability against a power cut: ``fdatasync`` on a timer, off the hot path.

A ``write`` that returned survives the death of the process (the data is in the
OS page cache) but not a power cut, until the kernel writes it back. The
policy: a background thread ``fdatasync``s the log at most every
``SYNC_INTERVAL`` seconds while it grows, and the writer syncs once more at the
end (footer and index). So a power cut loses at most the samples finished in
the last interval (plus those in flight), and never bytes synced before it:
the file only ever grows, so the bytes already synced are never rewritten.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

SYNC_INTERVAL: float | None = 1.0
"""Seconds between two ``fdatasync`` of a growing log; ``None`` turns the timer off
(a benchmark compares both)."""


class PeriodicSync:
    """A daemon thread that ``fdatasync``s one file descriptor while it grows."""

    def __init__(self, fd: int, directory: Path, interval: float | None) -> None:
        self._fd = fd
        self._directory = directory
        self._interval = interval
        self._written = 0
        self.synced = 0
        """Bytes known to be on stable storage."""
        self._lock = threading.Lock()  # no fdatasync may race close()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wrote(self, total: int) -> None:
        """The file now holds ``total`` bytes (called after each write; cheap)."""
        self._written = total
        if self._thread is None and self._interval is not None and not self._stop.is_set():
            # Started by the first write, not before it: the new file gets its header
            # as soon as possible (readers of a live log meet an empty file meanwhile).
            self._thread = threading.Thread(target=self._run, name="evalkit-log-sync",
                                            daemon=True)
            self._thread.start()

    def sync_now(self) -> None:
        """Make every byte written so far durable (the footer and index, at close);
        does nothing when the policy is off."""
        with self._lock:
            if self._interval is not None and self._fd >= 0 and self.synced < self._written:
                target = self._written
                os.fdatasync(self._fd)
                self.synced = target

    def close(self) -> None:
        """Stop the thread; the caller closes the descriptor afterwards."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            self._fd = -1

    def _run(self) -> None:
        assert self._interval is not None
        _sync_directory(self._directory)  # the new file's entry, once
        while not self._stop.wait(self._interval):
            try:
                self.sync_now()
            except OSError:
                return  # a disk that cannot sync reports it on write; nothing more to do


def _sync_directory(directory: Path) -> None:
    """``fsync`` a directory, so a file just created in it survives a power cut."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory: nothing better to do
    finally:
        os.close(fd)
