"""The retry loop every provider call runs in: backoff, Retry-After, budgets, timeouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import anyio
import anyio.lowlevel
import pytest

from evalkit.errors import AuthError, ModelTransientError
from evalkit.model import _retry
from evalkit.model._retry import RetryPolicy, call_with_retries


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The waits the retry loop asks for, recorded instead of slept."""
    recorded: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(_retry.anyio, "sleep", fake_sleep)
    return recorded


class Failing:
    """An attempt that raises ``error()`` ``times`` times, then returns "ok"."""

    def __init__(self, times: int, error: Callable[[], Exception]) -> None:
        self.times = times
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error()
        return "ok"


def test_wait_honours_retry_after_up_to_the_cap() -> None:
    """A server's Retry-After is the wait, but never beyond backoff_cap."""
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=30.0)
    assert policy.wait_before(1, retry_after=7.0) == 7.0
    assert policy.wait_before(5, retry_after=0.0) == 0.0
    assert policy.wait_before(1, retry_after=3600.0) == 30.0


def test_wait_is_exponential_with_jitter() -> None:
    """Without Retry-After the wait lies in [step/2, step], the step doubling up to the cap."""
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0)
    for retry, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        waits = {policy.wait_before(retry, None) for _ in range(50)}
        assert all(step / 2 <= wait <= step for wait in waits)
        assert len(waits) > 1  # jittered, not constant


def test_backoff_constants_are_read_when_a_policy_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting BACKOFF_BASE/BACKOFF_CAP shrinks the waits of policies made afterwards."""
    monkeypatch.setattr(_retry, "BACKOFF_BASE", 0.001)
    monkeypatch.setattr(_retry, "BACKOFF_CAP", 0.002)
    policy = RetryPolicy()
    assert (policy.backoff_base, policy.backoff_cap) == (0.001, 0.002)
    assert policy.wait_before(1, retry_after=60.0) == 0.002


@pytest.mark.anyio
async def test_retries_transient_errors_then_succeeds(sleeps: list[float]) -> None:
    """Two transient failures are retried, reported, and the third attempt's result returned."""
    attempt = Failing(2, lambda: ModelTransientError("HTTP 503", retry_after=4.0))
    reasons: list[str] = []
    result = await call_with_retries(attempt, RetryPolicy(max_retries=5), reasons.append)
    assert result == "ok"
    assert reasons == ["HTTP 503", "HTTP 503"]
    assert sleeps == [4.0, 4.0]  # Retry-After honoured exactly


@pytest.mark.anyio
async def test_gives_up_after_max_retries(sleeps: list[float]) -> None:
    """After max_retries retries the last transient error is raised, saying how to go on."""
    attempt = Failing(99, lambda: ModelTransientError("HTTP 529 overloaded", status_code=529))
    with pytest.raises(ModelTransientError, match="gave up after 3 retries") as info:
        await call_with_retries(attempt, RetryPolicy(max_retries=3))
    assert attempt.calls == 4
    assert info.value.status_code == 529
    assert len(sleeps) == 3


@pytest.mark.anyio
async def test_zero_retries_means_one_attempt(sleeps: list[float]) -> None:
    """--max-retries 0 makes exactly one attempt."""
    attempt = Failing(1, lambda: ModelTransientError("HTTP 500"))
    with pytest.raises(ModelTransientError):
        await call_with_retries(attempt, RetryPolicy(max_retries=0))
    assert attempt.calls == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_fatal_errors_are_not_retried(sleeps: list[float]) -> None:
    """An AuthError propagates from the first attempt, with no retry."""
    attempt = Failing(1, lambda: AuthError("HTTP 401"))
    with pytest.raises(AuthError):
        await call_with_retries(attempt, RetryPolicy(max_retries=5))
    assert attempt.calls == 1


@pytest.mark.anyio
async def test_attempt_timeout_cuts_a_hung_attempt() -> None:
    """A hung attempt is abandoned after attempt_timeout and retried."""
    calls = 0

    async def hang_once() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep_forever()
        return "recovered"

    reasons: list[str] = []
    with anyio.fail_after(5):
        result = await call_with_retries(
            hang_once, RetryPolicy(attempt_timeout=0.05, backoff_base=0.001), reasons.append
        )
    assert result == "recovered"
    assert reasons == ["attempt timed out after 0.05s (--attempt-timeout)"]


@pytest.mark.anyio
async def test_total_timeout_bounds_all_retries() -> None:
    """--timeout ends a call that keeps failing, naming the last error."""

    async def always_503() -> str:
        raise ModelTransientError("HTTP 503 server error")

    policy = RetryPolicy(max_retries=10_000, timeout=0.2, backoff_base=0.01, backoff_cap=0.01)
    with anyio.fail_after(5), pytest.raises(ModelTransientError) as info:
        await call_with_retries(always_503, policy)
    assert "timed out after 0.2s (--timeout)" in str(info.value)
    assert "last error: HTTP 503 server error" in str(info.value)


@pytest.mark.anyio
async def test_timeout_error_from_the_attempt_is_not_ours() -> None:
    """A TimeoutError raised by the attempt itself is not mistaken for --timeout."""

    async def raises_timeout() -> str:
        raise TimeoutError("from inside")

    with pytest.raises(TimeoutError, match="from inside"):
        await call_with_retries(raises_timeout, RetryPolicy(timeout=10, attempt_timeout=5))
