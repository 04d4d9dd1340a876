"""The contract a model provider implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from ._config import GenerateConfig
from ._messages import ChatMessage
from ._output import ModelOutput
from ._tool_info import ToolChoice, ToolInfo


class ModelAPI(ABC):
    """One provider's way of calling a model.

    ``generate`` makes exactly one attempt. It raises the ``ModelError``
    subclass that classifies a failure (see :mod:`evalkit.errors`); the
    :class:`~evalkit.model.Model` wrapping it does retries, concurrency and
    usage accounting, so a provider holds no such logic.
    """

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        self.model_name = model_name
        self.base_url = base_url
        self.api_key = api_key
        self.config = config
        self.model_args = model_args

    @abstractmethod
    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> ModelOutput:
        """Make one attempt at a completion."""

    def max_connections(self) -> int:
        """Concurrent calls when ``max_connections`` is not configured."""
        return 10

    async def aclose(self) -> None:
        """Release connections; called once when the eval ends."""
