"""Edge cases of the providers' transport: large reply heads, encodings asked for, proxy statuses, NO_PROXY ports."""

from __future__ import annotations

import threading

import anyio
import pytest
from _transport_servers import (
    OPENAI_KEY,
    HttpProxy,
    RawServer,
    Received,
    Reply,
    http_reply,
    idle_connections,
    json_reply,
    model_at,
    ports,
)

from evalkit.errors import ModelFatalError, ModelTransientError
from evalkit.model._providers._proxy_env import Proxy, proxy_for

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")


@pytest.mark.anyio
async def test_reply_with_large_headers_is_read() -> None:
    """A reply whose 40 KB of headers arrive in pieces is read (httpcore accepts 100 KB)."""
    def respond(request: Received) -> Reply:
        [whole] = json_reply(request, "X-Trace: " + "t" * 40_000).pieces
        return Reply(tuple(whole[i:i + 4096] for i in range(0, len(whole), 4096)))

    with RawServer(respond) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("big headers")).completion == "BIG HEADERS"


@pytest.mark.anyio
async def test_request_asks_for_an_uncompressed_reply() -> None:
    """Requests say Accept-Encoding: identity (no header means any coding, brotli too)."""
    with RawServer(json_reply) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            await model.generate("x")
    assert server.received[0].headers.get("accept-encoding") == "identity"


@pytest.mark.parametrize("status", [502, 503, 504])
@pytest.mark.anyio
async def test_proxy_gateway_error_to_connect_is_transient(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    """A proxy answering CONNECT with a 5xx (upstream unreachable) is retried, not fatal."""
    with HttpProxy(refuse=status) as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        async with model_at("https://127.0.0.1:8443/v1", max_retries=1) as model:
            with pytest.raises(ModelTransientError, match=f"HTTP {status} to CONNECT"):
                await model.generate("x")
    assert len(proxy.received) == 2


@pytest.mark.anyio
async def test_no_proxy_entry_with_a_port_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """NO_PROXY=127.0.0.1:PORT sends calls to that port direct, as httpx does."""
    with RawServer(json_reply) as server, HttpProxy() as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", f"localhost,127.0.0.1:{server.port}")
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("direct")).completion == "DIRECT"
    assert proxy.received == []


@pytest.mark.anyio
async def test_call_in_flight_during_aclose_does_not_keep_its_connection() -> None:
    """A call finishing after its pool was closed closes its connection instead of keeping it."""
    arrived, release = threading.Event(), threading.Event()

    def slow(request: Received) -> Reply:
        arrived.set()
        release.wait(5)
        return json_reply(request)

    with RawServer(slow) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            async with anyio.create_task_group() as group:
                group.start_soon(model.generate, "x")
                await anyio.to_thread.run_sync(arrived.wait, 5)
                await model.aclose()
                release.set()
            assert idle_connections(model) == 0
            assert await anyio.to_thread.run_sync(server.wait_ended, ports(server)[0], 2)


@pytest.mark.anyio
async def test_plain_proxy_wanting_credentials_is_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 407 from an HTTP_PROXY (absolute-form request) is fatal and names the proxy variables."""
    def wants_credentials(request: Received) -> Reply:
        return Reply((http_reply(b"", 'Proxy-Authenticate: Basic realm="corp"',
                                 "Content-Length: 0",
                                 status_line="HTTP/1.1 407 Proxy Authentication Required"),))

    with RawServer(wants_credentials) as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        async with model_at("http://127.0.0.1:9/v1") as model:
            with pytest.raises(ModelFatalError, match="HTTP 407") as info:
                await model.generate("x")
    assert "HTTP_PROXY" in str(info.value)
    assert model.retries == 0
    assert [request.target for request in proxy.received] == [
        "http://127.0.0.1:9/v1/chat/completions"]


@pytest.mark.parametrize(("no_proxy", "base_url", "direct"), [
    ("localhost:8000", "http://localhost:8000/v1", True),
    ("localhost:8000", "http://localhost:9000/v1", False),
    ("localhost", "http://localhost:9000/v1", True),
    ("example.com:443", "https://api.example.com/v1", True),
    (".example.com", "https://api.example.com/v1", True),
    ("::1", "http://[::1]:8000/v1", True),
    ("notexample.com", "https://example.com/v1", False),
])
def test_no_proxy_matching(monkeypatch: pytest.MonkeyPatch, no_proxy: str, base_url: str,
                           direct: bool) -> None:
    """NO_PROXY matches host suffixes, and host:port entries only on that port."""
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", no_proxy)
    expected = None if direct else Proxy("http://proxy.internal:3128")
    assert proxy_for(base_url) == expected


@pytest.mark.anyio
async def test_base_url_with_credentials_and_a_key_sends_the_key() -> None:
    """user:password@ in the base URL does not clash with the key header: the key is sent alone."""
    with RawServer(json_reply) as server, anyio.fail_after(5):
        base_url = server.url.replace("://", "://user:hunter2@") + "/v1"
        async with model_at(base_url, max_retries=0) as model:
            assert (await model.generate("with key")).completion == "WITH KEY"
    [request] = server.received
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
