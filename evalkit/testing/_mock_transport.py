"""``MockTransport``: a provider's HTTP answered in memory, for unit tests (like httpx's).

    def handler(request: HttpRequest) -> HttpReply:
        return HttpReply(200, {"content-type": "application/json"}, b'{"choices": [...]}')

    model = get_model("openai/m", base_url="http://test/v1", api_key="k",
                      transport=MockTransport(handler))

The handler may be async, and may raise a ``TransportError`` (``ConnectFailed``,
``ConnectionLost``...) to act out a failure. A streamed request gets the
reply's body read as server-sent events: write it as the stream would be
(``data: {...}\\n\\n``). Every request is kept in ``requests``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from evalkit.model._providers._sse import decode_events
from evalkit.model._providers._transport import (
    HttpReply,
    HttpRequest,
    ServerSentEvent,
    StreamingReply,
    Transport,
)

Handler = Callable[[HttpRequest], "HttpReply | Awaitable[HttpReply]"]


class MockTransport(Transport):
    """Answers each request with ``handler(request)``; records the requests in order."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[HttpRequest] = []
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpReply:
        self.requests.append(request)
        reply = self.handler(request)
        return await reply if inspect.isawaitable(reply) else reply

    @asynccontextmanager
    async def stream(self, request: HttpRequest) -> AsyncIterator[StreamingReply]:
        yield _BodyStream(await self.send(request))

    async def aclose(self) -> None:
        self.closed = True


class _BodyStream(StreamingReply):
    def __init__(self, reply: HttpReply) -> None:
        self.status: int = reply.status
        self.headers: Mapping[str, str] = reply.headers
        self._body = reply.body

    async def read(self) -> bytes:
        return self._body

    async def events(self) -> AsyncIterator[ServerSentEvent]:
        async def chunks() -> AsyncIterator[bytes]:
            yield self._body

        async for event in decode_events(chunks()):
            yield event
