"""One JSON POST to a provider, whole or streamed: its reply decoded, or its failure classified."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

from ...errors import ModelTransientError
from ._classify import StatusRule, classify_status, classify_transport_error, redact
from ._transport import HttpRequest, ServerSentEvent, Transport, TransportError

T = TypeVar("T")
Parse = Callable[[dict[str, Any], str], T]
"""Makes the output of a reply from its decoded JSON and its raw text."""
Assemble = Callable[[AsyncIterator[ServerSentEvent]], Awaitable[tuple[dict[str, Any], str]]]
"""Reads a stream's events into the JSON a whole reply would have had, and the raw events."""

MALFORMED = (KeyError, TypeError, ValueError, AttributeError)
"""What a parser raises for a reply that breaks the protocol's shapes or types."""


class JsonClient:
    """POSTs JSON to one provider and returns the parsed reply or raises a classified error."""

    def __init__(self, *, provider: str, table: tuple[StatusRule, ...], secret: str | None,
                 transport: Transport) -> None:
        self.provider = provider
        self.table = table
        self.transport = transport
        self._secret = secret

    def __repr__(self) -> str:
        return f"JsonClient({self.provider!r}, {self.transport!r})"

    async def post(
        self, url: str, headers: dict[str, str], body: dict[str, Any], reply_key: str
    ) -> tuple[dict[str, Any], str]:
        """The JSON object answered to ``body``, and its raw text.

        ``reply_key`` is a key every successful reply has (``choices``,
        ``content``); a 200 without it is an error reported in the body,
        as some OpenAI-compatible gateways do, or a garbled reply.
        """
        try:
            reply = await self.transport.send(_request(url, headers, body))
        except TransportError as exc:
            raise self._transport_error(exc) from _cause(exc, self._secret)
        text = reply.text
        if not 200 <= reply.status < 300:
            raise self._status_error(reply.status, text, reply.headers)
        try:
            data = json.loads(text)
        except ValueError as exc:
            # Transient: proxies and overloaded servers truncate replies.
            raise self._malformed(f"malformed JSON in a {reply.status} reply", text) from exc
        return self._checked(data, text, reply_key), text

    async def post_parsed(self, url: str, headers: dict[str, str], body: dict[str, Any],
                          reply_key: str, parse: Parse[T]) -> T:
        """``post``, then ``parse(data, raw)``; a reply of the wrong shape is transient."""
        data, raw = await self.post(url, headers, body, reply_key)
        return self._parsed(parse, data, raw)

    async def stream_parsed(self, url: str, headers: dict[str, str], body: dict[str, Any],
                            reply_key: str, assemble: Assemble, parse: Parse[T]) -> T:
        """The reply to ``body`` read as a stream of events, assembled, then parsed.

        A stream that breaks off is a transient error (``ConnectionLost``), so
        the call is retried. A server that ignores ``stream`` and answers
        whole JSON is parsed as such.
        """
        try:
            async with self.transport.stream(_request(url, headers, body)) as reply:
                if not 200 <= reply.status < 300:
                    text = (await reply.read()).decode("utf-8", errors="replace")
                    raise self._status_error(reply.status, text, reply.headers)
                if "text/event-stream" not in reply.headers.get("content-type", ""):
                    raw = (await reply.read()).decode("utf-8", errors="replace")
                    data = json.loads(raw)
                else:
                    data, raw = await assemble(reply.events())
        except TransportError as exc:
            raise self._transport_error(exc) from _cause(exc, self._secret)
        except MALFORMED as exc:  # an event (or a whole reply) that is not the protocol's JSON
            raise self._malformed("malformed reply stream", repr(exc)) from exc
        return self._parsed(parse, self._checked(data, raw, reply_key), raw)

    async def aclose(self) -> None:
        await self.transport.aclose()

    def _parsed(self, parse: Parse[T], data: dict[str, Any], raw: str) -> T:
        try:
            return parse(data, raw)
        except MALFORMED as exc:
            raise self._malformed(f"unexpected reply shape ({exc!r})", raw) from exc

    def _checked(self, data: Any, text: str, reply_key: str) -> dict[str, Any]:
        if isinstance(data, dict) and reply_key in data:
            return data
        raise self._unexpected_reply(data, text)

    def _malformed(self, what: str, text: str) -> ModelTransientError:
        return ModelTransientError(redact(f"{self.provider} API: {what}: {text[:200]!r}",
                                          self._secret))

    def _transport_error(self, exc: TransportError) -> Exception:
        return classify_transport_error(exc, provider=self.provider, secret=self._secret)

    def _status_error(self, status: int, text: str, headers: Mapping[str, str]) -> Exception:
        return classify_status(
            self.table,
            provider=self.provider,
            status=status,
            body=text,
            headers=headers,
            secret=self._secret,
        )

    def _unexpected_reply(self, data: Any, text: str) -> Exception:
        error = data.get("error") if isinstance(data, dict) else None
        if error:
            code = error.get("code") if isinstance(error, dict) else None
            status = code if isinstance(code, int) and 400 <= code < 600 else 500
            return self._status_error(status, json.dumps(data), {})
        return self._malformed("unexpected reply shape", text)


def _request(url: str, headers: dict[str, str], body: dict[str, Any]) -> HttpRequest:
    return HttpRequest(url, headers, json.dumps(body).encode())


def _cause(exc: Exception, secret: str | None) -> Exception | None:
    """``exc`` as the cause to chain, unless its own text holds the key (a quoted bad header)."""
    return None if secret and secret in str(exc) else exc
