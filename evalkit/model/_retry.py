"""Retrying transient model failures: exponential backoff, jitter, Retry-After."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio

from ..errors import ModelTransientError

T = TypeVar("T")

DEFAULT_MAX_RETRIES = 10
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0

# Its own generator: drawing jitter from the global one would shift the random
# numbers of a solver seeded with --seed whenever a call happens to be retried.
_jitter = random.Random()


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = DEFAULT_MAX_RETRIES
    timeout: float | None = None
    attempt_timeout: float | None = None
    # Read when a policy is made, not when this module loads, so tests (and
    # embedders) can shrink the waits by setting the module constants.
    backoff_base: float = field(default_factory=lambda: BACKOFF_BASE)
    backoff_cap: float = field(default_factory=lambda: BACKOFF_CAP)

    def wait_before(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.backoff_cap)
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** (retry - 1))
        # "equal jitter": spreads retries of many concurrent samples apart
        # while still waiting at least half the exponential step.
        return _jitter.uniform(ceiling / 2, ceiling)


async def call_with_retries(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None] = lambda reason: None,
    *,
    slot: AbstractAsyncContextManager[Any] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, retrying ``ModelTransientError``.

    Raises the last ``ModelTransientError`` once ``max_retries`` are spent or
    ``timeout`` seconds have passed; other errors propagate at once. Each
    attempt runs inside ``slot`` (a connection limiter), entered before the
    attempt's clock starts: waiting for a free connection is not a hung call.
    """
    reasons: list[str] = []

    def record(reason: str) -> None:
        reasons.append(reason)
        on_retry(reason)

    # move_on_after, not fail_after: a TimeoutError raised by the attempt
    # itself must not pass for one of ours.
    with anyio.move_on_after(policy.timeout):
        return await _retry_loop(attempt, policy, record, slot or contextlib.nullcontext())
    last = f"; last error: {reasons[-1]}" if reasons else ""
    raise ModelTransientError(
        f"model call timed out after {policy.timeout:g}s (--timeout) including retries{last}"
    )


async def _retry_loop(
    attempt: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    on_retry: Callable[[str], None],
    slot: AbstractAsyncContextManager[Any],
) -> T:
    retry = 0
    while True:
        try:
            async with slot:
                return await _one_attempt(attempt, policy.attempt_timeout)
        except ModelTransientError as exc:
            retry += 1
            if retry > policy.max_retries:
                raise ModelTransientError(
                    f"{exc} (gave up after {policy.max_retries} retries; raise --max-retries "
                    "to try longer)",
                    status_code=exc.status_code,
                ) from exc
            on_retry(str(exc))
            await anyio.sleep(policy.wait_before(retry, exc.retry_after))


async def _one_attempt(attempt: Callable[[], Awaitable[T]], attempt_timeout: float | None) -> T:
    with anyio.move_on_after(attempt_timeout):
        return await attempt()
    raise ModelTransientError(f"attempt timed out after {attempt_timeout:g}s (--attempt-timeout)")
