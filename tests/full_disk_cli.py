"""``evalkit ARGS`` on a fake disk that has ``FULL_DISK_FREE`` bytes left for logs.

A test helper for when a real small tmpfs cannot be mounted: the log writer's
files are wrapped so that, like the kernel, a write that does not fit writes
what fits and the next one fails with ENOSPC. Run as a script.
"""

import errno
import os
import sys
from typing import Any

from evalkit._cli import run
from evalkit.log import _writer


class _Disk:
    free = int(os.environ["FULL_DISK_FREE"])


class _FullDiskFile:
    """A file whose writes fail once the fake disk is full."""

    def __init__(self, file: Any) -> None:
        self._file = file

    def write(self, data: Any) -> int:
        if _Disk.free <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written: int = self._file.write(bytes(data)[:_Disk.free])
        _Disk.free -= written
        return written

    def truncate(self, size: int) -> int:
        _Disk.free += self._file.tell() - size
        return int(self._file.truncate(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _open(*args: Any, **kwargs: Any) -> _FullDiskFile:
    return _FullDiskFile(open(*args, **kwargs))  # the writer closes it


_writer.open = _open  # type: ignore[attr-defined]  # the writer looks `open` up here first
sys.argv[0] = "evalkit"
run()
