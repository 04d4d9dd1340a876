"""SIGINT and SIGTERM, honoured from the first instant of a command to its last.

The command line (and a sync ``eval()`` in a script's main thread) installs a
:class:`SignalGuard` before anything else; this module imports nothing of
evalkit, so installing it costs no time. It knows two phases:

- **No run in progress** (loading the task file, planning, reading a lineage,
  printing results): a signal raises :class:`Cancelled` right where the main
  thread is, even in the middle of a long synchronous step. No log is open
  then, so nothing is left half-written; the command line prints the resume
  command of the newest log of each lineage it touched, or "cancelled before
  anything ran".
- **A run in progress** (inside :func:`on_signal`): the first signal asks the
  run to stop, on its event loop (samples in flight are recorded as
  cancelled, footers written); the second calls ``second`` at once.

Python runs a handler between any two bytecodes, also inside a finalizer or a
weakref callback that garbage collection happens to be running; there an
exception is printed ("Exception ignored in ...") and dropped, so a
:class:`Cancelled` raised at that instant would be lost and planning would go
on. The guard therefore records every signal before it raises (see
:func:`stop_requested`), and while installed it watches
``sys.unraisablehook``: a dropped :class:`Cancelled` is delivered again (see
:class:`_Redelivery`), to be raised in the next ordinary code.

The handlers are installed with ``signal.signal``, not the event loop's
``add_signal_handler``: the loop only looks at signals between steps, so a
long planning step would ignore them, asyncio's own SIGINT handler merely
cancels the main task at its next await, and removing a loop handler resets
the signal to its default (so a later SIGTERM would kill the process
silently with 143).
"""

from __future__ import annotations

import _thread
import contextvars
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["Cancelled", "SignalGuard", "guard_signals", "loop_scheduler", "note_log",
           "noted_logs", "on_signal", "raise_if_stop_requested", "signal_name",
           "stop_requested"]

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Cancelled(KeyboardInterrupt):
    """SIGINT or SIGTERM while no run was in progress."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


@dataclass
class _Stopper:
    first: Callable[[int], None]
    """Runs on the event loop (scheduled from the handler): stop gracefully."""
    second: Callable[[int], None]
    """Runs in the signal handler itself: must be signal-safe (schedule, or exit)."""
    schedule: Callable[[Callable[[], None]], None]
    received: int = 0


class _Redelivery:
    """Sends the main thread a signal again, from a thread of its own.

    Not from the hook that saw the exception dropped: Python would run the handler
    at once, still inside the hook, where what it raises is dropped too. The thread
    waits on a semaphore, so it interrupts the main thread only once that thread has
    let go of the GIL, long after the hook returned (and if it has not, the handler
    sees it is in the hook and asks again).
    """

    def __init__(self) -> None:
        self._wake = threading.Semaphore(0)
        self._owed: int | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self, signum: int) -> None:
        """Deliver ``signum`` again soon (called in the main thread)."""
        self._owed = signum
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="evalkit-signal-redelivery",
                                            daemon=True)
            self._thread.start()
        self._wake.release()

    def delivered(self) -> None:
        """The handler ran in ordinary code: nothing is owed any more."""
        self._owed = None

    def close(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._wake.release()

    def _run(self) -> None:
        while True:
            self._wake.acquire()
            if self._closed:
                return
            if self._owed is not None:
                _thread.interrupt_main(signal.Signals(self._owed))


class SignalGuard:
    """Python-level SIGINT/SIGTERM handlers and what they need to report."""

    def __init__(self, raise_when_idle: bool) -> None:
        self.raise_when_idle = raise_when_idle
        self.received: list[int] = []
        self.logs: dict[str, Path] = {}
        """task_id -> the newest log of that lineage this process wrote or read."""
        self._stoppers: list[_Stopper] = []
        self._previous: dict[int, Any] = {}
        self._previous_hook: Callable[[Any], object] | None = None
        self._redelivery = _Redelivery()
        self.for_runs_only = False
        """Installed by :func:`on_signal` for runs awaited outside a guard: removed
        when the last of them ends."""

    @property
    def requested(self) -> int | None:
        """The first signal received since install (recorded before anything else)."""
        return self.received[0] if self.received else None

    def install(self) -> None:
        for signum in SIGNALS:
            self._previous[signum] = signal.getsignal(signum)
            signal.signal(signum, self._handle)
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._unraisable

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        if self._previous_hook is not None and sys.unraisablehook == self._unraisable:
            sys.unraisablehook = self._previous_hook
        self._previous_hook = None
        self._redelivery.close()

    def _unraisable(self, unraisable: Any) -> None:
        """Python dropped an exception (raised in a finalizer or a weakref callback): if
        it was our :class:`Cancelled`, deliver the signal again, in ordinary code."""
        if isinstance(unraisable.exc_value, Cancelled) and self._previous:
            self._redelivery.request(unraisable.exc_value.signum)
            return
        if self._previous_hook is not None:
            self._previous_hook(unraisable)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if _in_unraisable_hook(frame):
            self._redelivery.request(signum)  # raised in the hook, it would be dropped too
            return
        self._redelivery.delivered()
        self.received.append(signum)
        if not self._stoppers:
            if self.raise_when_idle:
                raise Cancelled(signum)
            return
        stopper = self._stoppers[-1]
        stopper.received += 1
        if stopper.received == 1:
            stopper.schedule(lambda: stopper.first(signum))
        else:
            stopper.second(signum)


_UNRAISABLE_HOOK = SignalGuard._unraisable.__code__


def _in_unraisable_hook(frame: FrameType | None) -> bool:
    """Whether ``frame`` is the hook or runs under it: anywhere there (in the thread
    start of a redelivery too) an exception escapes the hook and Python drops it."""
    while frame is not None:
        if frame.f_code is _UNRAISABLE_HOOK:
            return True
        frame = frame.f_back
    return False
_guard: SignalGuard | None = None


def _can_handle_signals() -> bool:
    return threading.current_thread() is threading.main_thread() and sys.platform != "win32"


@contextmanager
def guard_signals() -> Iterator[SignalGuard | None]:
    """Honour SIGINT/SIGTERM while inside (main thread only; else yields None).

    Nested uses share the outermost guard. The previous handlers come back on exit.
    """
    global _guard
    if _guard is not None or not _can_handle_signals():
        yield _guard
        return
    guard = _guard = SignalGuard(raise_when_idle=True)
    guard.install()
    try:
        yield guard
    finally:
        guard.uninstall()
        _guard = None


@contextmanager
def on_signal(first: Callable[[int], None],
              second: Callable[[int], None] | None = None) -> Iterator[None]:
    """While inside, a first signal calls ``first(signum)`` on this event loop and a
    second calls ``second(signum)`` from the handler (default: ``first`` again).

    Outside a guard (an ``eval_async`` awaited in someone else's loop) the
    handlers are installed for the duration only. Off the main thread, nothing.
    """
    global _guard
    if not _can_handle_signals():
        yield
        return
    schedule = loop_scheduler()
    stopper = _Stopper(first, second or (lambda signum: schedule(lambda: first(signum))),
                       schedule)
    guard = _guard
    if guard is None:
        guard = _guard = SignalGuard(raise_when_idle=False)
        guard.for_runs_only = True
        guard.install()
    guard._stoppers.append(stopper)
    try:
        yield
    finally:
        guard._stoppers.remove(stopper)
        # The last run out removes it: runs awaited side by side in one loop
        # (asyncio.gather) end in any order, and the others still need it.
        if guard.for_runs_only and not guard._stoppers:
            guard.uninstall()
            _guard = None


def loop_scheduler() -> Callable[[Callable[[], None]], None]:
    """A signal-safe way to run a callback soon on the running (asyncio) event loop,
    in the caller's context (a notebook routes output to the cell by a context var)."""
    import asyncio  # here: the guard is installed before anything else is imported

    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()

    def schedule(callback: Callable[[], None]) -> None:
        # Appends and wakes the loop: safe inside a signal handler.
        loop.call_soon_threadsafe(callback, context=context)

    return schedule


def note_log(task_id: str, path: Path) -> None:
    """``path`` is now the newest log of lineage ``task_id`` (for the resume command)."""
    if _guard is not None:
        _guard.logs[task_id] = path


def noted_logs() -> list[Path] | None:
    """The newest log of each lineage noted since the guard was installed (None: no
    guard). Signals stop raising from here on, so a report can be printed whole."""
    if _guard is None:
        return None
    _guard.raise_when_idle = False
    return list(_guard.logs.values())


def stop_requested() -> int | None:
    """The signal that asked this command to stop, if one came (None: none, or no guard).

    Recorded in the handler itself, so a signal that a finished run's stop handler
    took (too late to stop anything) is still seen by whoever would start more work."""
    return _guard.requested if _guard is not None else None


def raise_if_stop_requested() -> None:
    """Raise :class:`Cancelled` if a signal asked this command to stop: call it before
    starting more work (another round of retries) that nobody asked for any more."""
    signum = stop_requested()
    if signum is not None:
        raise Cancelled(signum)
