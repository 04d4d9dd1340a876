"""``HttpModelAPI``: what every JSON-over-HTTP provider shares.

A provider says where it lives (env prefix, default base URL, path), how it
authenticates, which classification table applies, and how its protocol's
request and reply look; this class does the rest: endpoint and key
resolution, one transport per model (aiohttp unless one is injected), one
attempt per ``generate``, streamed when the request is long or asked to be.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from ..._util._secrets import redact_url
from ...errors import UsageError
from .._api import ModelAPI
from .._config import GenerateConfig
from .._messages import ChatMessage
from .._output import ModelOutput
from .._tool_info import ToolChoice, ToolInfo
from ._classify import StatusRule
from ._endpoint import resolve_endpoint
from ._http import JsonClient
from ._transport import ServerSentEvent, Transport

LONG_REQUEST_MAX_TOKENS = 21_333
"""Above this ``max_tokens`` a request is streamed when ``stream`` is "auto": at
the ~128k tokens an hour Anthropic plans for, longer replies could take over
ten minutes, and Anthropic refuses such requests unless streamed (idle
proxies cut long silent replies too)."""

StreamSetting = Literal["auto"] | bool


class HttpModelAPI(ModelAPI):
    """A model served over an HTTP JSON API."""

    provider: ClassVar[str]
    """Name used in error messages ("OpenAI")."""
    env_prefix: ClassVar[str]
    """``{prefix}_API_KEY`` and ``{prefix}_BASE_URL`` are read from the environment."""
    default_base_url: ClassVar[str]
    path: ClassVar[str]
    """Appended to the base URL for a completion request."""
    reply_key: ClassVar[str]
    """A key every successful reply has (see ``JsonClient.post``)."""
    table: ClassVar[tuple[StatusRule, ...]]
    needs_key: ClassVar[bool] = True
    """Whether the default base URL needs a key (a local server's does not)."""
    headers: ClassVar[dict[str, str]] = {}
    """Sent with every request, key or not (e.g. a protocol version)."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
        transport: Transport | None = None,
        stream: StreamSetting | str = "auto",
    ) -> None:
        endpoint = resolve_endpoint(env_prefix=self.env_prefix, base_url=base_url,
                                    api_key=api_key, default_base_url=self.default_base_url,
                                    key_required=self.needs_key)
        config = config or GenerateConfig()
        super().__init__(
            model_name, base_url=endpoint.base_url, api_key=endpoint.api_key, config=config
        )
        self._headers = {"content-type": "application/json", **self.headers}
        if endpoint.api_key:
            self._headers.update(self.auth_headers(endpoint.api_key))
        self.stream = stream_setting(stream)
        if transport is None:
            from ._aiohttp import AiohttpTransport  # imports aiohttp only when a model is made
            from ._proxy_env import proxy_for

            transport = AiohttpTransport(config.max_connections or self.max_connections(),
                                         proxy_for(endpoint.base_url))
        self._http = JsonClient(provider=self.provider, table=self.table,
                                secret=endpoint.api_key, transport=transport)

    @abstractmethod
    def auth_headers(self, api_key: str) -> dict[str, str]:
        """Headers carrying the key (sent only when there is one)."""

    @abstractmethod
    def request_body(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> dict[str, Any]:
        """The JSON body of one completion request."""

    @abstractmethod
    def parse_reply(self, data: dict[str, Any], raw: str) -> ModelOutput:
        """The output in a successful reply (``raw`` is its text, kept in the event)."""

    @abstractmethod
    def streaming_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` asking for its reply as a stream of server-sent events."""

    @abstractmethod
    async def assemble_stream(
        self, events: AsyncIterator[ServerSentEvent]
    ) -> tuple[dict[str, Any], str]:
        """The reply a stream's events add up to, as the whole JSON reply, and the raw events."""

    def should_stream(self, config: GenerateConfig) -> bool:
        """Whether to stream this request: when asked to, or ("auto") when it would be long."""
        if self.stream == "auto":
            return (config.max_tokens or 0) > LONG_REQUEST_MAX_TOKENS
        return self.stream

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model_name!r}, base_url={redact_url(self.base_url)!r})"

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> ModelOutput:
        body = self.request_body(input, tools, tool_choice, config)
        url = f"{self.base_url}{self.path}"
        if self.should_stream(config):
            return await self._http.stream_parsed(
                url, self._headers, self.streaming_body(body), reply_key=self.reply_key,
                assemble=self.assemble_stream, parse=self.parse_reply)
        return await self._http.post_parsed(url, self._headers, body, reply_key=self.reply_key,
                                            parse=self.parse_reply)

    async def aclose(self) -> None:
        await self._http.aclose()


def stream_setting(value: object) -> StreamSetting:
    """``-M stream=...`` as True, False or "auto" (the default); a clear error otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    if text == "auto":
        return "auto"
    raise UsageError(f"stream={value!r} is not understood: use -M stream=true, false or auto")
