"""What a model returns: output, choices and token usage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ._messages import ChatMessageAssistant, ToolCall

StopReason = Literal["stop", "max_tokens", "tool_calls", "content_filter", "unknown"]


class ModelUsage(BaseModel):
    """Tokens used by one call, or summed over many."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    input_tokens_cache_read: int | None = None
    reasoning_tokens: int | None = None

    def __add__(self, other: ModelUsage) -> ModelUsage:
        return ModelUsage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            input_tokens_cache_read=_add_optional(
                self.input_tokens_cache_read, other.input_tokens_cache_read
            ),
            reasoning_tokens=_add_optional(self.reasoning_tokens, other.reasoning_tokens),
        )


def _add_optional(left: int | None, right: int | None) -> int | None:
    if left is None and right is None:
        return None
    return (left or 0) + (right or 0)


class ChatCompletionChoice(BaseModel):
    message: ChatMessageAssistant
    stop_reason: StopReason = "stop"


class ModelOutput(BaseModel):
    """A model's reply. ``completion`` is the text of the first choice."""

    model: str = ""
    choices: list[ChatCompletionChoice] = Field(default_factory=list)
    usage: ModelUsage | None = None
    raw: str | None = Field(default=None, exclude=True)
    """The provider's raw response text; kept in the model event, not here."""

    @property
    def message(self) -> ChatMessageAssistant:
        if not self.choices:
            return ChatMessageAssistant(content="")
        return self.choices[0].message

    @property
    def completion(self) -> str:
        return self.message.content if self.choices else ""

    @property
    def stop_reason(self) -> StopReason:
        return self.choices[0].stop_reason if self.choices else "unknown"

    @staticmethod
    def from_content(
        model: str, content: str, stop_reason: StopReason = "stop", usage: ModelUsage | None = None
    ) -> ModelOutput:
        """An output whose single choice answers ``content``."""
        message = ChatMessageAssistant(content=content)
        return ModelOutput(
            model=model,
            choices=[ChatCompletionChoice(message=message, stop_reason=stop_reason)],
            usage=usage,
        )

    @staticmethod
    def for_tool_call(
        model: str,
        tool_name: str,
        tool_arguments: dict[str, Any],
        tool_call_id: str | None = None,
        content: str = "",
    ) -> ModelOutput:
        """An output whose single choice asks to run ``tool_name``."""
        call = ToolCall(id=tool_call_id or f"call_{tool_name}", function=tool_name,
                        arguments=tool_arguments)
        message = ChatMessageAssistant(content=content, tool_calls=[call])
        return ModelOutput(
            model=model,
            choices=[ChatCompletionChoice(message=message, stop_reason="tool_calls")],
        )
