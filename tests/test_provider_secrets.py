"""API keys never appear in an error message, a traceback, a repr or a model event."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import anyio
import pytest

from evalkit._transcript import ModelEvent
from evalkit.errors import (
    AuthError,
    ModelError,
    ModelRequestError,
    ModelTransientError,
    QuotaExhaustedError,
    UsageError,
)
from evalkit.model import Model, get_model
from evalkit.testing import Fault, ProviderServer

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fast_retries")
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def echo_key_as_text(key: str) -> Fault:
    return Fault.raw(401, f"<html>bad key {key}</html>", (("Content-Type", "text/html"),))


def echo_key_in_odd_200(key: str) -> Fault:
    return Fault.raw(200, json.dumps({"unexpected": f"hello {key}"}))


# name -> (fault made from the key, expected error class, whether the server echoes the key)
SCENARIOS: dict[str, tuple[Callable[[str], Fault], type[ModelError], bool]] = {
    "quota": (lambda key: Fault.insufficient_quota(), QuotaExhaustedError, False),
    "auth-401-quotes-key": (lambda key: Fault.http(401), AuthError, True),
    "auth-401-html-quotes-key": (echo_key_as_text, AuthError, True),
    "bad-request-400": (lambda key: Fault.http(400), ModelRequestError, False),
    "server-error-503": (lambda key: Fault.http(503), ModelTransientError, False),
    "dropped-connection": (lambda key: Fault.drop(), ModelTransientError, False),
    "hang": (lambda key: Fault.hang(), ModelTransientError, False),
    "malformed-json": (lambda key: Fault.malformed_json(), ModelTransientError, False),
    "odd-200-quotes-key": (echo_key_in_odd_200, ModelTransientError, True),
}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.anyio
async def test_key_never_leaks(
    provider_server: ProviderServer,
    open_model: ServedModel,
    model_events: RecordedEvents,
    fake_keys: dict[str, str],
    provider: str,
    scenario: str,
) -> None:
    """Whatever fails, the key is absent from the error, its traceback, the event and reprs."""
    key = fake_keys[provider]
    make_fault, expected, echoed = SCENARIOS[scenario]
    provider_server.inject_always(make_fault(key))
    with anyio.fail_after(10):
        async with (
            open_model(provider_server, provider, max_retries=1, attempt_timeout=0.2) as model,
            model_events() as events,
        ):
            with pytest.raises(ModelError) as info:
                await model.generate("hi")
    error = info.value
    assert type(error) is expected
    exposed = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        *(event.model_dump_json() for event in events),
        repr(model),
        repr(model.api),
    ]
    assert [text for text in exposed if key in text] == []
    if echoed:  # the server did quote the key; we masked it
        assert "***" in str(error)
    headers = provider_server.requests[0].headers
    sent = headers.get("x-api-key") or headers.get("authorization") or ""
    assert key in sent  # it was on the wire, so its absence above means something


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_key_not_in_usage_error(monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    """A malformed key is refused without quoting it."""
    key = "sk-evalkit-SECRET-with\nnewline"
    with pytest.raises(UsageError) as info:
        get_model(f"{provider}/m", api_key=key, base_url="http://127.0.0.1:9")
    assert "SECRET" not in str(info.value)


def test_model_args_record_masks_keys() -> None:
    """The model args a log records mask api_key (and nested credentials, URL userinfo)."""
    from evalkit._eval._recorded import recorded_model_args

    recorded: dict[str, Any] = recorded_model_args({
        "api_key": "sk-x", "organization": "o", "headers": {"Authorization": "Bearer sk-y"},
        "base_url": "https://u:p@host/v1", "custom_outputs": print})
    assert recorded == {"api_key": "***", "organization": "o",
                        "headers": {"Authorization": "***"}, "base_url": "https://***@host/v1",
                        "custom_outputs": "<builtin_function_or_method>"}


@pytest.mark.anyio
async def test_a_query_credential_a_server_echoes_is_masked(
    provider_server: ProviderServer, fake_keys: dict[str, str]
) -> None:
    """A base URL carrying ``?api-key=...``: the server's 404 quotes the path it got,
    and the error (which a log and the terminal show) masks the credential in it."""
    secret = "QUERY-SECRET-77aa"
    model = get_model("openai/m", base_url=f"{provider_server.openai_base_url}?api-key={secret}")
    with anyio.fail_after(10):
        try:
            with pytest.raises(ModelError) as info:
                await model.generate("hi")
        finally:
            await model.aclose()
    assert secret in provider_server.requests[0].path  # the server did see (and quote) it
    assert "api-key=***" in str(info.value) and secret not in str(info.value)
