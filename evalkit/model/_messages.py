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


class ChatMessageTool(_TextContent):
    role: Literal["tool"] = "tool"
    content: str
    tool_call_id: str | None = None
    function: str | None = None
    error: str | None = None


ChatMessage = ChatMessageSystem | ChatMessageUser | ChatMessageAssistant | ChatMessageTool
