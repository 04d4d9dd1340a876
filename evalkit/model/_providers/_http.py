"""One JSON POST to a provider: its reply decoded, or its failure classified."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ...errors import ModelTransientError
from ._classify import StatusRule, classify_status, classify_transport_error, redact
from ._connection import HttpReply
from ._pool import ConnectionPool
from ._proxy import Proxy

T = TypeVar("T")


class JsonClient:
    """POSTs JSON to one provider and returns the decoded reply or raises a classified error."""

    def __init__(
        self,
        *,
        provider: str,
        table: tuple[StatusRule, ...],
        max_connections: int,
        secret: str | None,
        proxy: Proxy | None = None,
    ) -> None:
        self.provider = provider
        self.table = table
        self.pool = ConnectionPool(max_connections, proxy)
        self._secret = secret

    def __repr__(self) -> str:
        return f"JsonClient({self.provider!r}, {self.pool!r})"

    async def post(
        self, url: str, headers: dict[str, str], body: dict[str, Any], reply_key: str
    ) -> tuple[dict[str, Any], str]:
        """The JSON object answered to ``body``, and its raw text.

        ``reply_key`` is a key every successful reply has (``choices``,
        ``content``); a 200 without it is an error reported in the body,
        as some OpenAI-compatible gateways do, or a garbled reply.
        """
        reply = await self._send(url, headers, body)
        text = reply.text
        if not 200 <= reply.status < 300:
            raise self._status_error(reply.status, text, reply.headers)
        try:
            data = json.loads(text)
        except ValueError as exc:
            # Transient: proxies and overloaded servers truncate replies.
            raise ModelTransientError(
                redact(
                    f"{self.provider} API: malformed JSON in a {reply.status} reply: "
                    f"{text[:200]!r}",
                    self._secret,
                )
            ) from exc
        if isinstance(data, dict) and reply_key in data:
            return data, text
        raise self._unexpected_reply(data, text)

    async def post_parsed(
        self,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        reply_key: str,
        parse: Callable[[dict[str, Any], str], T],
    ) -> T:
        """``post``, then ``parse(data, raw)``; a reply of the wrong shape is transient."""
        data, raw = await self.post(url, headers, body, reply_key)
        try:
            return parse(data, raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelTransientError(
                redact(f"{self.provider} API: unexpected reply shape ({exc!r}): {raw[:200]!r}",
                       self._secret)
            ) from exc

    async def aclose(self) -> None:
        await self.pool.aclose()

    async def _send(
        self, url: str, headers: dict[str, str], body: dict[str, Any]
    ) -> HttpReply:
        try:
            return await self.pool.post(url, headers=headers, content=json.dumps(body).encode())
        except Exception as exc:
            error = classify_transport_error(exc, provider=self.provider, secret=self._secret)
            if error is None:
                raise
            # Never chain an exception whose own text holds the key (h11 quotes bad headers).
            cause = None if self._secret and self._secret in str(exc) else exc
            raise error from cause

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
            return self._status_error(status, text, {})
        return ModelTransientError(
            redact(f"{self.provider} API: unexpected reply shape: {text[:200]!r}", self._secret)
        )

