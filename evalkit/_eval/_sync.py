"""Running async code from sync entry points, inside a running event loop too.

A Jupyter kernel already runs an event loop in its main thread, where
``anyio.run`` fails with "event loop is already running". There the coroutine
runs in a worker thread with its own loop, and the caller waits for it.

Interrupting the kernel raises ``KeyboardInterrupt`` in the waiting caller,
not in the worker, so the caller turns it into a :class:`CancelRequest` that
the worker's loop polls: a run in progress stops like on Ctrl-C in a
terminal (samples in flight recorded as cancelled, footers written) and
``eval()`` returns its logs. A second interrupt stops waiting at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio

from .._util._signals import guard_signals

T = TypeVar("T")

POLL_SECONDS = 0.05
"""How often the worker's loop looks for an interrupt of the waiting caller."""
WAKE_SECONDS = 0.1
"""How often the waiting caller wakes to run signal handlers."""


class CancelRequest:
    """An interrupt of the caller's thread, handed to the worker's event loop."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.stoppers: list[Callable[[], None]] = []
        """Runs in progress: each stops its tasks gracefully (called in the loop thread)."""
        self.handled = False

    def set(self) -> None:
        """Ask the run to stop (thread-safe: called from the interrupted caller)."""
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def stop_runs(self) -> bool:
        """Stop every run in progress; False when none is (nothing to finish)."""
        if not self.stoppers:
            return False
        self.handled = True
        for stop in list(self.stoppers):
            stop()
        return True


_current_request: contextvars.ContextVar[CancelRequest | None] = contextvars.ContextVar(
    "evalkit_cancel_request", default=None)


@contextmanager
def stop_on_interrupt(stop: Callable[[], None]) -> Iterator[None]:
    """While inside, an interrupt of a caller waiting in another thread calls ``stop()``.

    ``stop`` runs in the event loop's thread; it should end the run the way
    the first Ctrl-C does. Outside the worker-thread path this does nothing
    (the signal watcher handles Ctrl-C there).
    """
    request = _current_request.get()
    if request is None:
        yield
        return
    request.stoppers.append(stop)
    try:
        if request.is_set():  # interrupted before this run started: start none of it
            request.stop_runs()
        yield
    finally:
        request.stoppers.remove(stop)


def run_sync(function: Callable[[], Awaitable[T]]) -> T:
    """Run ``function()`` to completion, whether or not a loop is running here."""
    if not _loop_running():
        with guard_signals():  # from here on, SIGINT/SIGTERM stop this cleanly
            return anyio.run(function)
    return _run_in_thread(function)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _start_loop(function: Callable[[], Awaitable[T]], request: CancelRequest) -> T:
    # The copied context still tells sniffio that the caller's asyncio loop runs
    # here; this thread has no loop yet, and anyio.run refuses to start if it
    # believes one is running.
    sniffio = sys.modules.get("sniffio")
    if sniffio is not None:
        sniffio.current_async_library_cvar.set(None)
    return anyio.run(_until_interrupted, function, request)


def _run_in_thread(function: Callable[[], Awaitable[T]]) -> T:
    request = CancelRequest()
    outcome: dict[str, Any] = {}
    # The caller's context goes with the work: ipykernel routes output by a
    # context variable, so prints from the worker land in the running cell.
    context = contextvars.copy_context()
    # Not Thread.join(): a join interrupted by KeyboardInterrupt marks the thread
    # as stopped while it still runs (CPython bpo-45274), so waiting again returns.
    done = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = context.run(_start_loop, function, request)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=target, name="evalkit-eval", daemon=True).start()
    _wait(done, request)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]  # T by construction of target()


def _wait(done: threading.Event, request: CancelRequest) -> None:
    """Wait for the worker; a first interrupt asks it to stop, a second stops waiting."""
    with _interruptible():
        try:
            _wait_for(done)
        except KeyboardInterrupt:
            try:
                request.set()
                _wait_for(done)
            except KeyboardInterrupt:
                print("warning: interrupted again: no longer waiting; the eval finishes its "
                      "logs in the background", file=sys.stderr, flush=True)
                raise


def _wait_for(done: threading.Event) -> None:
    # With a timeout, so a SIGINT the OS delivered to another thread is still
    # raised here within a moment (a blocked wait is woken only in its own thread).
    while not done.wait(WAKE_SECONDS):
        pass


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt here, whatever handler the running loop set.

    ``asyncio.run()`` and ipykernel's async cells install SIGINT handlers that
    only schedule work on their loop; that loop is blocked waiting for us, so
    the interrupt would be seen only after the eval ended.
    """
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if in_main else None
    if previous is None or previous is signal.SIG_IGN:
        yield  # not the main thread, a handler set outside Python, or ignored on purpose
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


async def _until_interrupted(function: Callable[[], Awaitable[T]], request: CancelRequest) -> T:
    """Run ``function()`` in this (worker) loop, stopping it when ``request`` is set."""
    _current_request.set(request)
    outcome: dict[str, Any] = {}
    async with anyio.create_task_group() as group:

        async def call() -> None:
            try:
                outcome["value"] = await function()
            except Exception as exc:  # re-raised below, not wrapped in a group
                outcome["error"] = exc
            group.cancel_scope.cancel()

        group.start_soon(call)
        await _watch(request, group.cancel_scope)
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:
        # Interrupted while no run was in progress (planning, a retry's backoff):
        # there is nothing to finish, so the interrupt goes through as it is.
        raise KeyboardInterrupt
    return outcome["value"]  # type: ignore[no-any-return]  # T, set by call()


async def _watch(request: CancelRequest, scope: anyio.CancelScope) -> None:
    # Polled: the request is a threading.Event set from another thread, which
    # an anyio.Event (loop-bound, not thread-safe) cannot be.
    while not request.is_set():  # noqa: ASYNC110  # see above
        await anyio.sleep(POLL_SECONDS)
    if not request.stop_runs() and not request.handled:
        scope.cancel()
