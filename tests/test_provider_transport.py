"""The providers' HTTP/1.1 transport against real sockets that misbehave in HTTP's own ways."""

from __future__ import annotations

import functools
import gzip
import json
import select
import threading
import traceback
import zlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio
import pytest
from _transport_servers import (
    OPENAI_KEY,
    RawServer,
    Received,
    Reply,
    answer_json,
    chunked,
    close_delimited,
    deflate_raw,
    http_reply,
    idle_connections,
    idle_socket,
    json_reply,
    model_at,
    ports,
)

from evalkit.errors import ModelFatalError, ModelTransientError, UsageError
from evalkit.model import Model, get_model
from evalkit.model._providers import _aiohttp
from evalkit.model._providers._aiohttp import AiohttpTransport, Timeouts
from evalkit.model._providers._classify import OPENAI_TABLE
from evalkit.model._providers._http import JsonClient
from evalkit.model._providers._transport import HttpRequest
from evalkit.testing import Fault, ProviderServer
from evalkit.testing._provider_server import openai_reply

pytest_plugins = ["provider_fixtures"]
ServedModel = Callable[..., AbstractAsyncContextManager[Model]]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")


# -- framing and encodings ------------------------------------------------------------


@pytest.mark.parametrize("respond", [chunked, close_delimited("HTTP/1.0 200 OK"),
                                     close_delimited("HTTP/1.1 200 OK")],
                         ids=["chunked", "http-1.0", "close-delimited-1.1"])
@pytest.mark.anyio
async def test_reply_framing_is_read_whole(respond: Callable[[Received], Reply]) -> None:
    """Chunked and close-delimited replies are read to their end, twice in a row."""
    with RawServer(respond) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("first " * 50)).completion == "FIRST " * 50
            assert (await model.generate("second")).completion == "SECOND"
            reused = idle_connections(model)
    assert reused == (1 if respond is chunked else 0)
    assert len(set(ports(server))) == (1 if respond is chunked else 2)


@pytest.mark.parametrize(("encoding", "compress"), [
    ("gzip", gzip.compress), ("deflate", zlib.compress), ("deflate", deflate_raw),
    ("GZip ", gzip.compress), ("identity", bytes)],
    ids=["gzip", "deflate-zlib", "deflate-raw", "gzip-spelled-oddly", "identity"])
@pytest.mark.anyio
async def test_compressed_reply_is_decoded(encoding: str,
                                           compress: Callable[[bytes], bytes]) -> None:
    """A server that compresses anyway is understood (gzip, zlib or raw deflate)."""
    def respond(request: Received) -> Reply:
        data = compress(answer_json(request))
        return Reply((http_reply(data, f"Content-Encoding: {encoding}",
                                 f"Content-Length: {len(data)}"),))

    with RawServer(respond) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("packed")).completion == "PACKED"


@pytest.mark.parametrize(("encoding", "body"), [("br", b"\x1b\x03\x00\xf8"),
                                                ("gzip", b"not gzip at all")])
@pytest.mark.anyio
async def test_undecodable_reply_is_transient_and_named(encoding: str, body: bytes) -> None:
    """An encoding evalkit can't read (or a corrupt body) is a transient error naming it."""
    def respond(request: Received) -> Reply:
        return Reply((http_reply(body, f"Content-Encoding: {encoding}",
                                 f"Content-Length: {len(body)}"),))

    with RawServer(respond) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            with pytest.raises(ModelTransientError, match=encoding):
                await model.generate("x")


# -- keep-alive --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_connection_close_reply_means_a_new_connection(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """After a "Connection: close" reply the next call connects afresh, with no retry."""
    closing = json.dumps(openai_reply({"model": "m", "messages": []}, "CLOSING"))
    provider_server.inject(Fault.raw(200, closing, headers=(("Connection", "close"),)))
    async with open_model(provider_server) as model:
        assert (await model.generate("a")).completion == "CLOSING"
        assert idle_connections(model) == 0
        assert (await model.generate("b")).completion == "B"
    assert model.retries == 0
    first, second = ports(provider_server)
    assert first != second


@pytest.mark.parametrize("noticed_by", ["event-loop", "kernel-only"])
@pytest.mark.anyio
async def test_idle_connection_closed_by_server_is_replaced(noticed_by: str) -> None:
    """A keep-alive connection the server closed while idle is not reused: no retry needed."""
    with RawServer(json_reply) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1") as model:
            await model.generate("one")
            raw_socket = idle_socket(model)
            server.close_connections()
            if noticed_by == "event-loop":  # polled: asyncio's protocol state has no event
                while idle_connections(model) and raw_socket.fileno() != -1:  # noqa: ASYNC110 -- (see above) the loop sees the FIN
                    await anyio.sleep(0.001)
            else:  # the FIN is in the kernel but the loop has not run since
                assert select.select([raw_socket], [], [], 2)[0]
            assert (await model.generate("two")).completion == "TWO"
    assert model.retries == 0
    assert len(server.received) == 2
    assert len(set(ports(server))) == 2


@pytest.mark.anyio
async def test_bytes_after_a_reply_are_not_the_next_reply() -> None:
    """A reply followed by unsolicited bytes retires its connection: no answer crosses calls."""
    stale = json.dumps(openai_reply({"messages": []}, "STALE")).encode()

    def reply_twice(request: Received) -> Reply:
        [piece] = json_reply(request).pieces
        return Reply((piece + http_reply(stale, f"Content-Length: {len(stale)}"),))

    with RawServer(reply_twice) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            assert (await model.generate("one")).completion == "ONE"
            assert (await model.generate("two")).completion == "TWO"
    assert [request.json_prompt for request in server.received] == ["one", "two"]


@pytest.mark.anyio
async def test_keepalive_expiry(
    provider_server: ProviderServer, open_model: ServedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection idle longer than KEEPALIVE_EXPIRY is replaced; a fresher one is reused."""
    monkeypatch.setattr(_aiohttp, "KEEPALIVE_EXPIRY", 0.3)
    async with open_model(provider_server) as model:
        await model.generate("a")
        await model.generate("b")
        await anyio.sleep(0.35)  # the expiry is measured in time, so time must pass
        await model.generate("c")
        assert idle_connections(model) == 1
    first, second, third = ports(provider_server)
    assert first == second != third
    assert model.retries == 0


# -- timeouts and cancellation ----------------------------------------------------------


@pytest.mark.anyio
async def test_read_timeout_is_transient(
    provider_server: ProviderServer, open_model: ServedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that never answers trips the read timeout: transient, "timed out"."""
    monkeypatch.setattr(_aiohttp, "TIMEOUTS", Timeouts(connect=2, read=0.1))
    provider_server.inject_always(Fault.hang())
    with anyio.fail_after(5):
        async with open_model(provider_server, max_retries=0) as model:
            with pytest.raises(ModelTransientError, match=r"timed out: waiting for the reply "
                               r"took over 0\.1 s"):
                await model.generate("hi")
            assert idle_connections(model) == 0


@pytest.mark.anyio
async def test_cancelled_call_closes_its_connection() -> None:
    """A call cancelled mid-reply closes its connection; the next call gets a fresh one."""
    arrived, release = threading.Event(), threading.Event()

    def first_hangs(request: Received) -> Reply:
        if not arrived.is_set():
            arrived.set()
            release.wait(5)
        return json_reply(request)

    pool = AiohttpTransport(max_connections=4)
    content = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    with RawServer(first_hangs) as server, anyio.fail_after(5):
        post = functools.partial(pool.send, HttpRequest(f"{server.url}/v1/chat/completions", {},
                                                        content.encode()))
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(post)
                await anyio.to_thread.run_sync(arrived.wait, 5)  # the reply is being awaited
                group.cancel_scope.cancel()
            assert idle_connections(pool) == 0
            release.set()  # the server answers the cancelled call, then sees it closed
            assert await anyio.to_thread.run_sync(server.wait_ended, ports(server)[0])
            reply = await post()
            assert idle_connections(pool) == 1
        finally:
            release.set()
            await pool.aclose()
    assert json.loads(reply.body)["choices"][0]["message"]["content"] == "HI"
    first, second = ports(server)
    assert first != second


@pytest.mark.anyio
async def test_large_request_goes_through(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """An 8 MB prompt is written whole (past the transport's high-water mark) and answered."""
    prompt = "lorem ipsum " * 700_000
    with anyio.fail_after(10):
        async with open_model(provider_server) as model:
            assert (await model.generate(prompt)).completion == prompt.upper()
    assert provider_server.requests[0].json["messages"][0]["content"] == prompt
    assert model.retries == 0


# -- configuration and bad requests ---------------------------------------------------------


@pytest.mark.parametrize(("base_url", "problem"), [
    ("http://127.0.0.1:99999/v1", "has an invalid port"),
    ("http://127.0.0.1:80x/v1", "has an invalid port"),
    ("https://bücher.example/v1", "must be ASCII"),
    ("http:///v1", "has no host"),
    ("http://:8080/v1", "has no host"),
    (f"http://{'a' * 64}.example.com/v1", "invalid host name"),
    ("http://127.0.0.1:8000/v 1", "contains spaces"),
    ("http://127.0.0.1:8000/v1#chat", "#fragment"),
])
def test_base_url_problems_are_usage_errors(base_url: str, problem: str) -> None:
    """A base URL that can't be called is refused when the model is made, saying why."""
    with pytest.raises(UsageError, match=problem) as info:
        get_model("openai/m", base_url=base_url)
    assert "check --model-base-url, -M base_url or OPENAI_BASE_URL" in str(info.value)


@pytest.mark.parametrize(("respond", "detail"), [
    (lambda request: Reply(), "closed the connection without replying"),
    (lambda request: Reply((b"SSH-2.0-OpenSSH_9.6\r\n",), close=True), "broke HTTP/1.1"),
    (lambda request: Reply((http_reply(b'{"choi', "Content-Length: 99"),), close=True),
     "broke HTTP/1.1"),
], ids=["no-reply", "not-http", "truncated-body"])
@pytest.mark.anyio
async def test_broken_replies_are_lost_connections(respond: Callable[[Received], Reply],
                                                   detail: str) -> None:
    """No reply, a non-HTTP reply or a cut-short body: "connection failed", transient."""
    with RawServer(respond) as server, anyio.fail_after(5):
        async with model_at(f"{server.url}/v1", max_retries=0) as model:
            with pytest.raises(ModelTransientError, match=f"connection failed: .*{detail}"):
                await model.generate("x")


@pytest.mark.anyio
async def test_dropped_connection_is_retried(
    provider_server: ProviderServer, open_model: ServedModel
) -> None:
    """A connection dropped before the reply is retried on a new one and answered."""
    provider_server.inject(Fault.drop())
    async with open_model(provider_server) as model:
        assert (await model.generate("retry me")).completion == "RETRY ME"
    assert model.retries == 1
    assert len(set(ports(provider_server))) == 2


@pytest.mark.anyio
async def test_header_with_a_line_break_is_fatal_and_never_sent(
    provider_server: ProviderServer,
) -> None:
    """An organization with a line break can't be sent: fatal at once, the key never shown."""
    model = get_model("openai/m", base_url=provider_server.openai_base_url,
                      organization="org-1\r\nX-Injected: yes")
    try:
        with pytest.raises(ModelFatalError, match="could not be sent") as info:
            await model.generate("x")
    finally:
        await model.aclose()
    assert model.retries == 0
    assert provider_server.requests == []
    assert OPENAI_KEY not in str(info.value)
    assert OPENAI_KEY not in str(info.value.__cause__)


@pytest.mark.anyio
async def test_unsendable_key_is_masked(provider_server: ProviderServer) -> None:
    """A key header the transport refuses is fatal, and the key is in no message or traceback."""
    client = JsonClient(provider="OpenAI", table=OPENAI_TABLE, secret=OPENAI_KEY,
                        transport=AiohttpTransport(1))
    url = f"{provider_server.openai_base_url}/chat/completions"
    try:
        with pytest.raises(ModelFatalError) as info:
            await client.post(url, {"authorization": f"Bearer {OPENAI_KEY}\n"},
                              {"messages": []}, "choices")
        assert isinstance(client.transport, AiohttpTransport)
        assert idle_connections(client.transport) == 0
        data, _ = await client.post(url, {}, {"messages": [{"role": "user", "content": "ok"}]},
                                    "choices")
    finally:
        await client.aclose()
    assert OPENAI_KEY not in "".join(traceback.format_exception(info.value))
    assert data["choices"][0]["message"]["content"] == "OK"
