"""The one-line live status of a task run, as the display shows it.

``errors 0 · retries 3 (last: HTTP 429 rate limited) · 4 samples/s · 1:05 elapsed ·
12.3k tokens · $0.0123 · ETA 0:40``. Pure functions of a ``TaskProgress``, so
they are tested without a terminal.
"""

from __future__ import annotations

import os
import re

from ._progress import TaskProgress

_REASON_WIDTH = 60
_STOPPING = {"cancelled": "cancelling", "threshold": "stopping: too many errors",
             "fatal": "stopping: model error"}
_ERRNO = re.compile(r"\[Errno (\d+)\]")


def status_text(progress: TaskProgress) -> str:
    parts = [f"errors {progress.errors}"]
    if progress.limited:
        parts.append(f"limited {progress.limited}")
    if progress.cancelled:
        parts.append(f"cancelled {progress.cancelled}")
    if progress.retries:
        last = progress.last_retry
        parts.append(f"retries {progress.retries}"
                     + (f" (last: {short_reason(last)})" if last else ""))
    parts.append(f"{progress.rate():.0f} samples/s")
    parts.append(f"{clock(progress.elapsed())} elapsed")
    tokens = progress.tokens()
    if tokens:
        cost = progress.cost()
        parts.append(f"{compact(tokens)} tokens")
        parts.append("cost unknown" if cost is None else f"${cost:.4f}")
    eta = progress.eta()
    if progress.stop_reason is not None and progress.ended is None:
        parts.append(_STOPPING.get(progress.stop_reason, "stopping"))
    elif eta is not None and progress.done < progress.total:
        parts.append(f"ETA {clock(eta)}")
    return " · ".join(parts)


def short_reason(reason: str) -> str:
    """A retry reason cut to what fits a status line: ``HTTP 429 rate limited``,
    ``connection refused``, ``timed out``."""
    text = reason.split(" API: ", 1)[-1]  # "OpenAI API: HTTP 429 ..." names the model's API
    errno = _ERRNO.search(text)
    if errno:
        return os.strerror(int(errno.group(1))).lower()
    head, _, _ = text.partition(": ")
    return head if len(head) <= _REASON_WIDTH else head[:_REASON_WIDTH - 1] + "…"


def clock(seconds: float) -> str:
    """``0:07``, ``12:34``, ``1:02:03``."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def compact(count: int) -> str:
    """``950``, ``12.3k``, ``4.56M``."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k"
    return f"{count / 1_000_000:.2f}M"
