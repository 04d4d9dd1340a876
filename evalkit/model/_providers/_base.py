"""``HttpModelAPI``: what every JSON-over-HTTP provider shares.

A provider says where it lives (env prefix, default base URL, path), how it
authenticates, which classification table applies, and how its protocol's
request and reply look; this class does the rest: endpoint and key
resolution, one pooled client per model, one attempt per ``generate``.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from ..._util._secrets import redact_url
from .._api import ModelAPI
from .._config import GenerateConfig
from .._messages import ChatMessage
from .._output import ModelOutput
from .._tool_info import ToolChoice, ToolInfo
from ._classify import StatusRule
from ._endpoint import resolve_endpoint
from ._http import JsonClient
from ._proxy import proxy_for


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
    headers: ClassVar[dict[str, str]] = {}
    """Sent with every request, key or not (e.g. a protocol version)."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig | None = None,
    ) -> None:
        endpoint = resolve_endpoint(env_prefix=self.env_prefix, base_url=base_url,
                                    api_key=api_key, default_base_url=self.default_base_url)
        config = config or GenerateConfig()
        super().__init__(
            model_name, base_url=endpoint.base_url, api_key=endpoint.api_key, config=config
        )
        self._headers = {"content-type": "application/json", **self.headers}
        if endpoint.api_key:
            self._headers.update(self.auth_headers(endpoint.api_key))
        self._http = JsonClient(
            provider=self.provider,
            table=self.table,
            max_connections=config.max_connections or self.max_connections(),
            secret=endpoint.api_key,
            proxy=proxy_for(endpoint.base_url),
        )

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
        return await self._http.post_parsed(
            f"{self.base_url}{self.path}", self._headers, body, reply_key=self.reply_key,
            parse=self.parse_reply,
        )

    async def aclose(self) -> None:
        await self._http.aclose()
