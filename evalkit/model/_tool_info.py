"""How a tool is described to a model (JSON schema of its parameters)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class ToolInfo(BaseModel):
    """A tool's name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}, "required": []}
    )


class ToolFunction(BaseModel):
    """Force the model to call one named tool."""

    name: str


ToolChoice = Literal["auto", "any", "none"] | ToolFunction
