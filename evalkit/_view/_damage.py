"""Collecting the reader's damage reports for the page that caused them.

The log reader skips a damaged frame and says so with a ``LogDamageWarning``
(the intact samples still read). The viewer must show that message on the
page, and it serves many requests at once from a thread pool, where
``warnings.catch_warnings`` (process-wide state) would mix them up. So
``showwarning`` is wrapped once to hand a ``LogDamageWarning`` raised inside
:func:`collecting` to that thread's list; every other warning, and those
raised elsewhere, go where they went before.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from ..errors import LogDamageWarning

_local = threading.local()
_install_lock = threading.Lock()


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Damage reports raised by reads in this thread inside the block, in order."""
    _install()
    outer = getattr(_local, "sink", None)
    sink: list[str] = []
    _local.sink = sink
    try:
        yield sink
    finally:
        _local.sink = outer
        if outer is not None:
            outer.extend(sink)


def joined(problem: str | None, reports: list[str]) -> str | None:
    """One message from an error (if any) and the damage reports (if any)."""
    parts = ([problem] if problem else []) + reports
    return "; ".join(parts) or None


def _install() -> None:
    with _install_lock:
        # "always": the same damage is reported to every request that meets it,
        # not once per process (the default action remembers what it showed).
        first = warnings.filters[0] if warnings.filters else None
        if first is None or first[0] != "always" or first[2] is not LogDamageWarning:
            warnings.filterwarnings("always", category=LogDamageWarning)
        if not getattr(warnings.showwarning, "_evalkit_view", False):
            warnings.showwarning = _router(warnings.showwarning)


def _router(previous: Any) -> Any:
    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        sink = getattr(_local, "sink", None)
        if sink is not None and issubclass(category, LogDamageWarning):
            sink.append(str(message))
            return
        previous(message, category, filename, lineno, file, line)

    show._evalkit_view = True  # type: ignore[attr-defined]  # marks the wrapper as installed
    return show
