"""Fixtures shared by the provider tests.

Test modules load this with ``pytest_plugins = ["provider_fixtures"]`` and
never import it, so pytest can rewrite its asserts and nothing is defined twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest

from evalkit._transcript import ModelEvent, Transcript, bind_transcript
from evalkit.model import GenerateConfig, Model, _retry, get_model
from evalkit.testing import ProviderServer

OPENAI_KEY = "sk-evalkit-SECRET-0penai-d3adb33f"
ANTHROPIC_KEY = "sk-ant-evalkit-SECRET-4nthropic-c0ffee"


@pytest.fixture
def provider_server() -> Iterator[ProviderServer]:
    """A fresh fake provider on 127.0.0.1 that upper-cases the prompt."""
    with ProviderServer(answer=lambda prompt: prompt.upper()) as server:
        yield server


@pytest.fixture
def fake_keys(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Distinctive fake keys in the environment (by provider), and no base URLs from the shell."""
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    return {"openai": OPENAI_KEY, "anthropic": ANTHROPIC_KEY}


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff of about a millisecond, and Retry-After waits capped at 50 ms."""
    monkeypatch.setattr(_retry, "BACKOFF_BASE", 0.001)
    monkeypatch.setattr(_retry, "BACKOFF_CAP", 0.05)


def base_url(server: ProviderServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


@asynccontextmanager
async def served_model(
    server: ProviderServer, provider: str = "openai", name: str = "test-model", **config: Any
) -> AsyncIterator[Model]:
    """``provider/name`` pointed at ``server``, closed on exit."""
    model = get_model(
        f"{provider}/{name}", base_url=base_url(server, provider), config=GenerateConfig(**config)
    )
    try:
        yield model
    finally:
        await model.aclose()


@asynccontextmanager
async def recorded_events() -> AsyncIterator[list[ModelEvent]]:
    """The model events recorded while the block runs."""
    transcript = Transcript()
    events: list[ModelEvent] = []
    with bind_transcript(transcript):
        try:
            yield events
        finally:
            events.extend(event for event in transcript.events if isinstance(event, ModelEvent))


ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]


@pytest.fixture
def open_model() -> ServedModel:
    """``open_model(server, provider="openai", name="test-model", **config)``: see served_model."""
    return served_model


@pytest.fixture
def model_events() -> RecordedEvents:
    """``async with model_events() as events``: the model events recorded in the block."""
    return recorded_events


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")


@pytest.fixture
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy from the shell running the tests: each test sets its own."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
