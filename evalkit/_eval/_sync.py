"""Running async code from sync entry points, inside a running event loop too.

A Jupyter kernel already runs an event loop in its main thread, where
``anyio.run`` fails with "event loop is already running". There the coroutine
runs in a worker thread with its own loop, and the caller waits for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

T = TypeVar("T")


def run_sync(function: Callable[[], Awaitable[T]]) -> T:
    """Run ``function()`` to completion, whether or not a loop is running here."""
    if not _loop_running():
        return anyio.run(function)
    return _run_in_thread(function)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run_in_thread(function: Callable[[], Awaitable[T]]) -> T:
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = anyio.run(function)
        except BaseException as exc:  # noqa: BLE001  # re-raised in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="evalkit-eval", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]  # a BaseException by construction
    return outcome["value"]  # type: ignore[return-value]  # set when no error was stored
