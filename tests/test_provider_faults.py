"""Faults end to end: ``openai/<model>`` against a real server that misbehaves on cue."""

from __future__ import annotations

import socket
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio
import anyio.lowlevel
import pytest
from _transport_servers import RawServer, idle_connections, json_reply, model_at, ports

from evalkit._transcript import ModelEvent
from evalkit.errors import (
    AuthError,
    ModelError,
    ModelRequestError,
    ModelTransientError,
    QuotaExhaustedError,
)
from evalkit.model import GenerateConfig, Model, _retry, get_model
from evalkit.model._providers.openai import OpenAIAPI
from evalkit.testing import Fault, ProviderServer

pytest_plugins = ["provider_fixtures"]
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
RecordedEvents = Callable[[], AbstractAsyncContextManager[list[ModelEvent]]]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


TRANSIENT_FAULTS = {
    "429": Fault.rate_limit(),
    "429-retry-after": Fault.rate_limit(retry_after=0),
    "408": Fault.http(408),
    "500": Fault.http(500),
    "502": Fault.http(502),
    "503": Fault.http(503),
    "504": Fault.http(504),
    "529": Fault.overloaded(),
    "dropped-connection": Fault.drop(),
    "malformed-json": Fault.malformed_json(),
    "slower-than-attempt-timeout": Fault.slow(5.0),
    "hang": Fault.hang(),
}


@pytest.mark.parametrize("name", list(TRANSIENT_FAULTS))
@pytest.mark.anyio
async def test_transient_fault_is_retried_to_a_correct_answer(
    provider_server: ProviderServer,
    name: str,
    open_model: ServedModel,
    model_events: RecordedEvents,
) -> None:
    """Two transient faults in a row are retried; the third attempt answers correctly."""
    provider_server.inject(TRANSIENT_FAULTS[name], times=2)
    # 1 s per attempt: short enough for the slow and hung faults to time out, long
    # enough that a healthy reply on a loaded CI machine never does.
    with anyio.fail_after(20):
        async with (
            open_model(provider_server, attempt_timeout=1.0) as model,
            model_events() as events,
        ):
            output = await model.generate("the question")
    assert output.completion == "THE QUESTION"
    assert len(provider_server.requests) == 3
    assert model.retries == 2
    assert len(events[0].retries) == 2
    assert events[0].error is None


FATAL_FAULTS: dict[str, tuple[Fault, type[ModelError]]] = {
    "429-insufficient-quota": (Fault.insufficient_quota(), QuotaExhaustedError),
    "402": (Fault.http(402), QuotaExhaustedError),
    "400-credit-too-low": (Fault.credit_too_low(400), QuotaExhaustedError),
    "401": (Fault.http(401), AuthError),
    "403": (Fault.http(403), AuthError),
    "400": (Fault.http(400), ModelRequestError),
    "404": (Fault.http(404), ModelRequestError),
    "413": (Fault.http(413), ModelRequestError),
    "422": (Fault.http(422), ModelRequestError),
}


@pytest.mark.parametrize("name", list(FATAL_FAULTS))
@pytest.mark.anyio
async def test_non_transient_fault_raises_at_once(
    provider_server: ProviderServer,
    name: str,
    open_model: ServedModel,
    model_events: RecordedEvents,
) -> None:
    """Quota, auth and bad-request faults raise their class after one request, no retry."""
    fault, expected = FATAL_FAULTS[name]
    provider_server.inject(fault)
    async with open_model(provider_server) as model, model_events() as events:
        with pytest.raises(ModelError) as info:
            await model.generate("hi")
    assert type(info.value) is expected
    assert len(provider_server.requests) == 1
    assert model.retries == 0
    assert events[0].error == str(info.value)


@pytest.mark.anyio
async def test_persistent_5xx_gives_up_after_max_retries(
    provider_server: ProviderServer, open_model: ServedModel, model_events: RecordedEvents
) -> None:
    """A server that keeps failing ends in ModelTransientError after max_retries retries."""
    provider_server.inject_always(Fault.http(503))
    async with open_model(provider_server, max_retries=2) as model, model_events() as events:
        with pytest.raises(ModelTransientError, match="gave up after 2 retries"):
            await model.generate("hi")
    assert len(provider_server.requests) == 3
    assert len(events[0].retries) == 2
    assert events[0].error is not None
    assert "HTTP 503" in events[0].error


@pytest.mark.anyio
async def test_hung_server_never_stalls_the_call(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """A server that never answers costs attempt_timeout per attempt, then a transient error."""
    provider_server.inject_always(Fault.hang())
    with anyio.fail_after(10):
        async with open_model(provider_server, attempt_timeout=0.2, max_retries=1) as model:
            with pytest.raises(ModelTransientError, match="--attempt-timeout"):
                await model.generate("hi")
    assert len(provider_server.requests) == 2


@pytest.mark.anyio
async def test_total_timeout_ends_slow_retries(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """--timeout bounds the whole call even when each attempt is merely slow."""
    provider_server.inject_always(Fault.slow(5.0))
    with anyio.fail_after(10):
        async with open_model(provider_server, timeout=0.3, max_retries=100) as model:
            with pytest.raises(ModelTransientError, match="--timeout"):
                await model.generate("hi")


@pytest.mark.anyio
async def test_quota_switched_on_then_off(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """Exhausted quota fails every call until it is switched off; then calls succeed."""
    provider_server.inject_always(Fault.insufficient_quota())
    async with open_model(provider_server) as model:
        for _ in range(2):
            with pytest.raises(QuotaExhaustedError, match="exceeded your current quota"):
                await model.generate("hi")
        provider_server.clear_faults()
        assert (await model.generate("back")).completion == "BACK"


@pytest.mark.anyio
async def test_retry_after_is_honoured(
    provider_server: ProviderServer, monkeypatch: pytest.MonkeyPatch, open_model: ServedModel
) -> None:
    """The wait before a retry is the server's Retry-After, not the backoff."""
    monkeypatch.setattr(_retry, "BACKOFF_CAP", 30.0)
    waits: list[float] = []

    async def record_sleep(seconds: float) -> None:
        waits.append(seconds)
        await anyio.lowlevel.checkpoint()

    monkeypatch.setattr(_retry.anyio, "sleep", record_sleep)
    provider_server.inject(Fault.rate_limit(retry_after=3))
    async with open_model(provider_server) as model:
        assert (await model.generate("x")).completion == "X"
    assert waits == [3.0]


@pytest.mark.anyio
async def test_connection_refused_is_retried_then_transient() -> None:
    """Nothing listening at the base URL is a transient connection error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = get_model(
        "openai/m", base_url=f"http://127.0.0.1:{port}/v1", config=GenerateConfig(max_retries=1)
    )
    try:
        with pytest.raises(ModelTransientError, match="connection failed"):
            await model.generate("hi")
    finally:
        await model.aclose()
    assert model.retries == 1


@pytest.mark.anyio
async def test_connections_are_reused_and_closed() -> None:
    """Sequential calls share one keep-alive connection; aclose closes it."""
    with RawServer(json_reply) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_connections=20) as model:
            for prompt in ("a", "b", "c"):
                await model.generate(prompt)
            assert idle_connections(model) == 1
        [port] = set(ports(server))
        assert await anyio.to_thread.run_sync(server.wait_ended, port)
    assert idle_connections(model) == 0


@pytest.mark.anyio
async def test_concurrent_calls_open_one_connection_each(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """Calls in flight together each get a connection, all kept for reuse afterwards."""
    provider_server.delay = 0.05
    async with open_model(provider_server, max_connections=8) as model:
        assert isinstance(model.api, OpenAIAPI)
        async with anyio.create_task_group() as group:
            for index in range(8):
                group.start_soon(model.generate, f"q{index}")
        assert idle_connections(model) == 8
        async with anyio.create_task_group() as group:
            for index in range(8):
                group.start_soon(model.generate, f"again{index}")
    first, second = provider_server.requests[:8], provider_server.requests[8:]
    assert {r.client_port for r in second} == {r.client_port for r in first}
    assert len({r.client_port for r in first}) == 8


def test_default_max_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --max-connections a model allows 10 concurrent calls."""
    model = get_model("openai/m", base_url="http://127.0.0.1:9/v1")
    assert model.api.max_connections() == 10
    assert model.limiter.max_value == 10


def test_client_is_remade_in_a_new_event_loop(provider_server: ProviderServer) -> None:
    """A model used from two event loops (two notebook evals) works in both."""
    model = get_model("openai/m", base_url=provider_server.openai_base_url)
    assert anyio.run(model.generate, "first").completion == "FIRST"

    async def second() -> str:
        try:
            return (await model.generate("second")).completion
        finally:
            await model.aclose()

    assert anyio.run(second) == "SECOND"


@pytest.mark.anyio
async def test_concurrent_calls_all_answered(open_model: ServedModel) -> None:
    """Many concurrent calls through a small pool all get their own correct answer."""
    answers: dict[int, str] = {}
    with ProviderServer(answer=lambda prompt: prompt + "!", delay=0.02) as server:
        async with open_model(server, max_connections=4) as model:

            async def ask(number: int) -> None:
                answers[number] = (await model.generate(f"q{number}")).completion

            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    for number in range(24):
                        group.start_soon(ask, number)
    assert answers == {number: f"q{number}!" for number in range(24)}


@pytest.mark.anyio
async def test_waiting_for_a_connection_is_not_an_attempt_timeout(
    open_model: ServedModel,
) -> None:
    """Calls queued behind max_connections are not timed out (and retried) while they wait."""
    with ProviderServer(delay=0.2) as server:
        async with open_model(server, max_connections=1, attempt_timeout=0.5) as model:
            with anyio.fail_after(10):
                async with anyio.create_task_group() as group:
                    for number in range(4):
                        group.start_soon(model.generate, f"q{number}")
    assert model.retries == 0
    assert len(server.requests) == 4
