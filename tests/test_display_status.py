"""The live status line: retry reason, elapsed time, tokens, cost, and no ETA once stopping."""

from __future__ import annotations

import errno
import time

import pytest

from evalkit._eval._progress import TaskProgress
from evalkit._eval._results import ResultsTally
from evalkit._eval._status import clock, compact, short_reason, status_text
from evalkit.log import EvalSample
from evalkit.model import ModelUsage, get_model
from evalkit.testing import Fault, ProviderServer

pytest_plugins = ["provider_fixtures"]


def _progress(model: str = "openai/gpt-4o", total: int = 4, **costs: object) -> TaskProgress:
    tally = ResultsTally(total)
    progress = TaskProgress("t", get_model("mockllm/model"), total, "log", tally,
                            model_cost=dict(costs))  # type: ignore[arg-type]  # test prices
    used = ModelUsage(input_tokens=1000, output_tokens=500, total_tokens=1500)
    tally.add(EvalSample(id=1, input="q", model_usage={model: used}))
    progress.started = time.monotonic() - 65  # a run that started 65 s ago
    return progress


def test_status_shows_elapsed_tokens_cost_and_eta() -> None:
    """Elapsed time, tokens and cost so far (list price of gpt-4o), and an ETA."""
    text = status_text(_progress())
    assert "1:05 elapsed" in text
    assert "1.5k tokens" in text
    assert "$0.0075" in text  # 1000 x $2.50/M + 500 x $10/M
    assert "ETA 3:1" in text  # 3 samples left at 1 sample per 65 s


def test_cost_of_an_unpriced_model_is_unknown_never_zero() -> None:
    """No price: 'cost unknown'; a --model-cost price is used when given."""
    assert "cost unknown" in status_text(_progress("openai/unpriced"))
    priced = _progress("openai/unpriced", **{"openai/unpriced": (1.0, 2.0)})
    assert "$0.0020" in status_text(priced)


@pytest.mark.parametrize(("reason", "shown"), [
    ("cancelled", "cancelling"),
    ("threshold", "stopping: too many errors"),
    ("fatal", "stopping: model error"),
])
def test_eta_is_cleared_once_the_run_is_stopping(reason: str, shown: str) -> None:
    """A cancelled (or stopping) run shows why instead of an ETA it will never meet."""
    progress = _progress()
    progress.stop_reason = reason
    text = status_text(progress)
    assert "ETA" not in text and shown in text
    progress.finish()
    assert "ETA" not in status_text(progress) and shown not in status_text(progress)


def test_a_finished_run_stops_its_clock() -> None:
    """After the footer, elapsed and rate no longer move and no ETA is shown."""
    progress = _progress()
    progress.finish()
    first = progress.elapsed()
    assert progress.elapsed() == first
    assert "ETA" not in status_text(progress)


@pytest.mark.anyio
@pytest.mark.usefixtures("fake_keys", "fast_retries")
async def test_status_shows_the_last_retry_reason(provider_server: ProviderServer) -> None:
    """A real 429 from the loopback server shows as 'retries 2 (last: HTTP 429 rate limited)'."""
    provider_server.inject(Fault.rate_limit(retry_after=0), times=2)
    model = get_model("openai/m", base_url=provider_server.openai_base_url)
    try:
        await model.generate("hello")
    finally:
        await model.aclose()
    progress = TaskProgress("t", model, 1, "log", ResultsTally(1))
    assert "retries 2 (last: HTTP 429 rate limited)" in status_text(progress)


@pytest.mark.parametrize(("reason", "shown"), [
    ("OpenAI API: HTTP 429 rate limited: Rate limit reached for requests.",
     "HTTP 429 rate limited"),
    (f"OpenAI API: connection failed: 127.0.0.1:9: [Errno {errno.ECONNREFUSED}] Connect call "
     "failed", "connection refused"),
    ("Anthropic API: timed out: read", "timed out"),
    ("attempt timed out after 2s (--attempt-timeout)", "attempt timed out after 2s (--attempt-timeout)"),
])
def test_retry_reasons_are_shortened_for_the_status_line(reason: str, shown: str) -> None:
    """The provider prefix and details go; the errno names the socket error."""
    assert short_reason(reason) == shown


def test_clock_and_compact_formats() -> None:
    """m:ss under an hour, h:mm:ss above; k and M for token counts."""
    assert [clock(7), clock(754), clock(3723)] == ["0:07", "12:34", "1:02:03"]
    assert [compact(950), compact(12_345), compact(4_560_000)] == ["950", "12.3k", "4.56M"]
