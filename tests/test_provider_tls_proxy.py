"""The providers' transport over TLS and through HTTP proxies, against real servers on 127.0.0.1."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import anyio
import pytest
import trustme
from _transport_servers import (
    OPENAI_KEY,
    HttpProxy,
    RawServer,
    json_reply,
    model_at,
    ports,
)

from evalkit.errors import ModelFatalError, UsageError
from evalkit.model import Model, get_model
from evalkit.model._providers import _aiohttp
from evalkit.model._providers._aiohttp import AiohttpTransport
from evalkit.model._providers._proxy_env import Proxy, parse_proxy
from evalkit.testing import ProviderServer

pytest_plugins = ["provider_fixtures"]
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")

# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(certificate_authority: trustme.CA) -> Iterator[RawServer]:
    """A RawServer answering OpenAI requests over TLS, certified for 127.0.0.1 by the test CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    with RawServer(json_reply, tls=context) as server:
        yield server


@pytest.fixture
def trusted_ca(certificate_authority: trustme.CA, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The test CA is trusted through SSL_CERT_FILE."""
    bundle = tmp_path / "ca.pem"
    certificate_authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    _aiohttp.ssl_context.cache_clear()
    yield
    _aiohttp.ssl_context.cache_clear()


@pytest.fixture
def default_trust(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Only the default CA bundle is trusted."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    _aiohttp.ssl_context.cache_clear()
    yield
    _aiohttp.ssl_context.cache_clear()


@pytest.mark.usefixtures("trusted_ca")
@pytest.mark.anyio
async def test_tls_with_a_trusted_ca(tls_server: RawServer) -> None:
    """HTTPS to a server whose CA is in SSL_CERT_FILE works, and its connection is kept."""
    with anyio.fail_after(5):
        async with model_at(f"{tls_server.url}/v1") as model:
            assert (await model.generate("secure")).completion == "SECURE"
            assert (await model.generate("again")).completion == "AGAIN"
    assert len(set(ports(tls_server))) == 1
    assert tls_server.received[0].headers["authorization"] == f"Bearer {OPENAI_KEY}"


@pytest.mark.usefixtures("default_trust")
@pytest.mark.anyio
async def test_tls_with_an_untrusted_certificate(tls_server: RawServer) -> None:
    """A certificate from an unknown CA is fatal at once (a retry cannot help); nothing is sent."""
    with anyio.fail_after(5):
        async with model_at(f"{tls_server.url}/v1", max_retries=3) as model:
            with pytest.raises(ModelFatalError, match=r"did not verify.*SSL_CERT_FILE"):
                await model.generate("x")
    assert model.retries == 0
    assert tls_server.received == []


# -- proxies ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_http_proxy_gets_the_absolute_url(
    provider_server: ProviderServer, open_model: ServedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTP_PROXY an http:// request goes to the proxy in absolute form, and is answered."""
    with HttpProxy() as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTP_PROXY", f"http://user:pa%40ss@127.0.0.1:{proxy.port}")
        async with open_model(provider_server) as model:
            assert (await model.generate("proxied")).completion == "PROXIED"
    [seen] = proxy.received
    assert (seen.method, seen.target) == ("POST",
                                          f"{provider_server.openai_base_url}/chat/completions")
    assert seen.headers["host"] == f"127.0.0.1:{provider_server.port}"
    assert seen.headers["proxy-authorization"] == "Basic " + base64.b64encode(
        b"user:pa@ss").decode()
    assert provider_server.requests[0].path == "/v1/chat/completions"


@pytest.mark.usefixtures("trusted_ca")
@pytest.mark.anyio
async def test_https_proxy_tunnels_with_connect(
    tls_server: RawServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With HTTPS_PROXY an https:// call goes through CONNECT; the proxy never sees the key."""
    with HttpProxy() as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTPS_PROXY", f"http://user:pa%40ss@127.0.0.1:{proxy.port}")
        async with model_at(f"{tls_server.url}/v1") as model:
            assert (await model.generate("tunnelled")).completion == "TUNNELLED"
            assert (await model.generate("reused")).completion == "REUSED"
    [connect] = proxy.received
    assert (connect.method, connect.target) == ("CONNECT", f"127.0.0.1:{tls_server.port}")
    assert connect.headers["proxy-authorization"] == "Basic " + base64.b64encode(
        b"user:pa@ss").decode()
    assert "authorization" not in connect.headers
    assert [r.headers["authorization"] for r in tls_server.received] == [f"Bearer {OPENAI_KEY}"] * 2
    assert "proxy-authorization" not in tls_server.received[0].headers


@pytest.mark.usefixtures("trusted_ca")
@pytest.mark.parametrize("target", ["https", "http"])
@pytest.mark.anyio
async def test_https_proxy_is_spoken_to_over_tls(
    certificate_authority: trustme.CA, tls_server: RawServer, monkeypatch: pytest.MonkeyPatch,
    target: str
) -> None:
    """An https:// proxy gets TLS, then CONNECT (https target) or the absolute URL (http target)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    with HttpProxy(tls=context) as proxy, RawServer(json_reply) as plain_server, \
            anyio.fail_after(5):
        server = tls_server if target == "https" else plain_server
        monkeypatch.setenv(f"{target.upper()}_PROXY", f"https://127.0.0.1:{proxy.port}")
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("over tls")).completion == "OVER TLS"
    [seen] = proxy.received
    expected = f"127.0.0.1:{server.port}" if target == "https" else (
        f"{server.url}/v1/chat/completions")
    assert (seen.method, seen.target) == ("CONNECT" if target == "https" else "POST", expected)


@pytest.mark.parametrize(("host", "authority"), [("127.0.0.1", "127.0.0.1:8443"),
                                                 ("[::1]", "[::1]:8443")])
@pytest.mark.anyio
async def test_proxy_refusing_connect_is_fatal(
    monkeypatch: pytest.MonkeyPatch, host: str, authority: str
) -> None:
    """A 407 to CONNECT ends the call at once with a fatal error pointing at HTTPS_PROXY."""
    with HttpProxy(refuse=407) as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        async with model_at(f"https://{host}:8443/v1") as model:
            with pytest.raises(ModelFatalError, match=r"HTTP 407 to CONNECT.*") as info:
                await model.generate("x")
    assert "HTTPS_PROXY" in str(info.value)
    assert model.retries == 0
    [connect] = proxy.received
    assert (connect.target, connect.headers["host"]) == (authority, authority)


@pytest.mark.anyio
async def test_no_proxy_bypasses_the_proxy(
    provider_server: ProviderServer, open_model: ServedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host listed in NO_PROXY is called directly."""
    with HttpProxy() as proxy, anyio.fail_after(5):
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "example.com,127.0.0.1")
        async with open_model(provider_server) as model:
            assert (await model.generate("direct")).completion == "DIRECT"
    assert proxy.received == []


@pytest.mark.parametrize("proxy", ["socks5://user:hunter2@127.0.0.1:1080",
                                   "ftp://user:hunter2@127.0.0.1:3128",
                                   "http://user:hunter2@127.0.0.1:notaport"])
def test_unsupported_proxy_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, proxy: str) -> None:
    """A proxy evalkit can't speak to is refused when the model is made, credentials masked."""
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with pytest.raises(UsageError, match=r"\(from HTTPS_PROXY\)") as info:
        get_model("openai/m", base_url="https://api.example.com/v1")
    assert "hunter2" not in str(info.value)
    assert "user" not in str(info.value) and "***@127.0.0.1" in str(info.value)


def test_unsupported_proxy_names_the_variable_it_came_from(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error names the one variable that was read (ALL_PROXY here), not a list of them."""
    monkeypatch.setenv("ALL_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(UsageError, match=r"\(from ALL_PROXY\)"):
        get_model("openai/m", base_url="http://api.example.com/v1")


def test_parse_proxy() -> None:
    """A scheme-less proxy is http; credentials are kept apart and no repr shows them."""
    assert parse_proxy("proxy.internal:3128") == Proxy("http://proxy.internal:3128")
    assert parse_proxy("http://proxy.internal") == Proxy("http://proxy.internal:80")
    assert parse_proxy("https://proxy.internal") == Proxy("https://proxy.internal:443")
    proxy = parse_proxy("http://us%20er:hunter%32@proxy:3128")
    assert (proxy.url, proxy.username, proxy.password) == ("http://proxy:3128", "us er", "hunter2")
    transport = AiohttpTransport(1, proxy)
    assert [text for text in (repr(proxy), str(proxy), repr(transport))
            if "hunter" in text or "us er" in text] == []


def test_socks_proxy_error_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A socks proxy is refused with a message saying socks is not supported."""
    monkeypatch.setenv("ALL_PROXY", "socks5h://127.0.0.1:1080")
    with pytest.raises(UsageError, match="socks proxies are not supported"):
        get_model("openai/m", base_url="https://api.example.com/v1")
