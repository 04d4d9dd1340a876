"""One writer per lineage: an OS lock on a file beside the logs.

A lineage is one ``task_id`` in one log directory. Whoever writes a log of it
(an eval, a retry, one member of an eval set) holds ``.evalkit-<task_id>.lock``
in that directory with ``flock``: the kernel releases the lock when the process
ends however it ends (kill -9, a crash), so a lock left by a dead process is
taken over by the next run without anyone noticing. The file also holds who
has it (pid, host, start time, command), read only to say who is in the way.

The file is removed on release. A process that opened it just before and
then got the lock would hold a lock on a removed file, so after locking we
check the path still names the file we locked, and start over if not.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path

from .._util._ids import utc_now
from .._util._secrets import redact_command, secret_values
from ..errors import LineageLockedError, UsageError

__all__ = ["LineageLock", "LockHolder", "hold_lineages", "lock_path"]

_HOLDER_READS = 20
"""Times to re-read a holder that has the lock but has not written its details yet."""
_HOLDER_WAIT = 0.01


@dataclass(frozen=True)
class LockHolder:
    """The process that holds a lineage lock."""

    pid: int
    host: str
    started_at: str
    command: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at} ({self.command})"


def lock_path(log_dir: str | Path, task_id: str) -> Path:
    """The lock file of lineage ``task_id`` in ``log_dir``."""
    return Path(log_dir) / f".evalkit-{task_id}.lock"


class LineageLock:
    """The lock of one lineage; ``acquire`` refuses at once if another process has it.

    Use as a context manager, or ``acquire()``/``release()``. Not re-entrant:
    a second ``LineageLock`` of the same lineage in the same process is refused
    too (see ``hold_lineages`` for nesting).
    """

    def __init__(self, log_dir: str | Path, task_id: str, task: str | None = None) -> None:
        self.path = lock_path(log_dir, task_id)
        self.task_id = task_id
        self.task = task
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock, or raise ``LineageLockedError`` naming the holder."""
        if self._fd is not None:
            return
        while True:
            fd = self._open()
            if not _try_lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise self._refusal(holder)
            if _still_named(fd, self.path):
                break
            os.close(fd)  # released and removed by its holder between our open and lock
        self._fd = fd
        _write_holder(fd)

    def release(self) -> None:
        """Give the lock up and remove its file (a no-op when not held)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)  # while still locked: see the module docstring
        finally:
            os.close(fd)  # closing the last descriptor releases the lock

    def holder(self) -> LockHolder | None:
        """Who holds this lineage's lock now (None: nobody, or not said yet).

        Finding out takes the lock for an instant when it is free: a run that
        tries to start in that very instant is refused. For reports, not polling.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            if _try_lock(fd):
                return None  # free (our probe lock goes with the descriptor)
            return _read_holder(fd)
        finally:
            os.close(fd)

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UsageError(f"cannot create the lock file {str(self.path)!r}: {exc.strerror}; "
                             "pass --log-dir (or set EVALKIT_LOG_DIR) to a writable "
                             "directory") from exc

    def _refusal(self, holder: LockHolder | None) -> LineageLockedError:
        name = f"task {self.task!r} (task_id {self.task_id})" if self.task \
            else f"task_id {self.task_id}"
        who = holder.describe() if holder else "another process (it has not said who yet)"
        stop = "kill PID"
        if holder is not None:
            stop = f"kill {holder.pid}" + ("" if holder.host == socket.gethostname()
                                           else f" on {holder.host}")
        message = (f"another evalkit process is already writing {name} in "
                   f"{str(self.path.parent)!r}: {who}; wait for it to finish or stop it "
                   f"(Ctrl-C, or {stop}), then run this again")
        if holder is None:
            return LineageLockedError(message)
        return LineageLockedError(message, pid=holder.pid, host=holder.host,
                                  started_at=holder.started_at)

    def __enter__(self) -> LineageLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


_held_here: ContextVar[frozenset[Path]] = ContextVar("evalkit_held_lineages",
                                                    default=frozenset())


@contextmanager
def hold_lineages(lineages: Iterable[tuple[Path, str, str | None]]) -> Iterator[None]:
    """Hold the lock of every ``(log_dir, task_id, task name)`` while inside.

    Re-entrant within one context: a lineage already held by an enclosing
    ``hold_lineages`` (a retry locks before it plans, then runs) is not locked
    again. Locks are taken in a fixed order and each refuses at once, so two
    processes can never wait on each other.
    """
    held = _held_here.get()
    wanted = {lock_path(directory, task_id).absolute(): (directory, task_id, task)
              for directory, task_id, task in lineages}
    with ExitStack() as stack:
        for path in sorted(set(wanted) - held):
            stack.enter_context(LineageLock(*wanted[path]))
        token = _held_here.set(held | set(wanted))
        try:
            yield
        finally:
            _held_here.reset(token)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        return True  # POSIX only (flock); on Windows one writer per lineage is not enforced
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _still_named(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)


def _write_holder(fd: int) -> None:
    holder = LockHolder(pid=os.getpid(), host=socket.gethostname(),
                        started_at=utc_now().isoformat(timespec="seconds"),
                        command=_command_line())
    data = json.dumps(asdict(holder)).encode()
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
    except OSError:
        pass  # a full disk: the lock holds all the same, only its holder goes unnamed


def _command_line() -> str:
    """The holder's command line, credentials masked: it is stored beside the logs and
    shown to whoever is refused."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program in ("evalkit", "__main__.py"):  # the CLI, however it was started
        command = shlex.join(["evalkit", *sys.argv[1:]])
    else:
        command = shlex.join(sys.argv) or "python"
    return redact_command(command, secret_values({}))


def _read_holder(fd: int) -> LockHolder | None:
    """The holder's details; it may have the lock a moment before it writes them."""
    for _ in range(_HOLDER_READS):
        try:
            data = os.pread(fd, 4096, 0)
            return LockHolder(**json.loads(data))
        except (OSError, ValueError, TypeError):
            time.sleep(_HOLDER_WAIT)
    return None
