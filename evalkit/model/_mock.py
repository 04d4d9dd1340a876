"""``mockllm/model``: a model with no network, for tests and examples."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import anyio
from pydantic_core import PydanticSerializationError

from ..errors import ModelRequestError, UsageError
from ._api import ModelAPI
from ._config import GenerateConfig
from ._messages import ChatMessage
from ._output import ModelOutput, ModelUsage
from ._tool_info import ToolChoice, ToolInfo

DEFAULT_OUTPUT = "Default output from mockllm/model"

OutputSource = Iterable[ModelOutput | str] | Callable[[list[ChatMessage]], ModelOutput | str]


class MockLLM(ModelAPI):
    """Answers ``default_output``, or the outputs of ``custom_outputs``.

    ``custom_outputs`` is an iterable (consumed one output per call, across
    all samples, in call order) or a callable of the messages. ``delay`` makes
    each call take that many seconds.
    """

    def __init__(
        self,
        model_name: str,
        *,
        custom_outputs: OutputSource | None = None,
        default_output: str = DEFAULT_OUTPUT,
        delay: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(model_name, **kwargs)
        self.default_output = default_output
        self.delay = float(delay)
        self._callable: Callable[[list[ChatMessage]], ModelOutput | str] | None = None
        self._outputs: Iterator[ModelOutput | str] | None = None
        if isinstance(custom_outputs, (str, bytes, ModelOutput)):
            # A bare string is an iterable of its characters: it would answer "h", "e", ...
            raise UsageError(
                "mockllm custom_outputs takes a list of outputs (or a function of the "
                f"messages), not a single {type(custom_outputs).__name__}: write "
                "custom_outputs=[...] with one output per model call"
            )
        if callable(custom_outputs):
            self._callable = custom_outputs
        elif custom_outputs is not None:
            self._outputs = iter(custom_outputs)
        self._served = 0

    def max_connections(self) -> int:
        return 1_000_000

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice | None,
        config: GenerateConfig,
    ) -> ModelOutput:
        # Suspend once, as a call over the network would: concurrent samples
        # interleave, and Ctrl-C and the progress display get their turn.
        await anyio.sleep(self.delay)
        output = self._next_output(input)
        if isinstance(output, str):
            output = ModelOutput.from_content(f"mockllm/{self.model_name}", output)
        if output.usage is None:
            output = output.model_copy(update={"usage": _estimate_usage(input, output)})
        try:
            raw = output.model_dump_json(exclude_none=True)
        except PydanticSerializationError:
            # A lone surrogate cannot be written as UTF-8 (nor logged). A provider's
            # text arrives as bytes decoded with replacement; do as it would.
            output = ModelOutput.model_validate(_valid_unicode(output.model_dump()))
            raw = output.model_dump_json(exclude_none=True)
        if output.raw is None:
            # What a provider would have answered, so mock logs show raw output too.
            output = output.model_copy(update={"raw": raw})
        return output

    def _next_output(self, input: list[ChatMessage]) -> ModelOutput | str:
        self._served += 1
        if self._callable is not None:
            return self._callable(input)
        if self._outputs is None:
            return self.default_output
        try:
            return next(self._outputs)
        except StopIteration:
            raise ModelRequestError(
                f"mockllm custom_outputs ran out after {self._served - 1} outputs; "
                "give one output per model call"
            ) from None


def _valid_unicode(value: Any) -> Any:
    """``value`` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_valid_unicode(item) for item in value]
    if isinstance(value, dict):
        return {key: _valid_unicode(item) for key, item in value.items()}
    return value


def _estimate_usage(input: list[ChatMessage], output: ModelOutput) -> ModelUsage:
    """Roughly one token per word, so token limits can be exercised offline."""
    input_tokens = sum(len(message.content.split()) for message in input)
    output_tokens = max(1, len(output.completion.split()))
    return ModelUsage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
    )
