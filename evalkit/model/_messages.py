"""Chat messages exchanged with a model."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ToolCall(BaseModel):
    """A model's request to run a tool."""

    id: str
    function: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    parse_error: str | None = None
    """Set when the provider's arguments were not valid JSON."""


class ContentReasoning(BaseModel):
    """Thinking a model showed before its answer (Anthropic's extended thinking).

    ``signature`` lets the provider check the thinking is its own when it is sent back;
    ``redacted`` thinking is encrypted by the provider and ``reasoning`` holds its data.
    """

    type: Literal["reasoning"] = "reasoning"
    reasoning: str
    signature: str | None = None
    redacted: bool = False


class _TextContent(BaseModel):
    """``message.text``: Inspect AI's name for a message's text (here, its content)."""

    content: str

    @property
    def text(self) -> str:
        return self.content

    @text.setter
    def text(self, value: str) -> None:
        self.content = value


class ChatMessageSystem(_TextContent):
    role: Literal["system"] = "system"
    content: str


class ChatMessageUser(_TextContent):
    role: Literal["user"] = "user"
    content: str


class ChatMessageAssistant(_TextContent):
    role: Literal["assistant"] = "assistant"
    content: str = ""
    tool_calls: list[ToolCall] | None = None
    reasoning: list[ContentReasoning] | None = None
    """The model's thinking before ``content``, kept so it can be sent back: Anthropic
    refuses a tool result whose assistant turn lost its thinking. (Inspect keeps it
    among a message's content parts; here content is text, so it has a field.)"""


class ChatMessageTool(_TextContent):
    role: Literal["tool"] = "tool"
    content: str
    tool_call_id: str | None = None
    function: str | None = None
    error: str | None = None


ChatMessage = ChatMessageSystem | ChatMessageUser | ChatMessageAssistant | ChatMessageTool
