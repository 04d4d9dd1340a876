"""Models: messages, outputs, generation config, providers."""

from ._api import ModelAPI
from ._config import GenerateConfig, ResponseSchema
from ._messages import (
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ContentReasoning,
    ToolCall,
)
from ._model import Model
from ._output import ChatCompletionChoice, ModelOutput, ModelUsage, StopReason
from ._registry import PROVIDERS, get_model
from ._tool_info import ToolChoice, ToolFunction, ToolInfo

__all__ = [
    "PROVIDERS",
    "ChatCompletionChoice",
    "ChatMessage",
    "ChatMessageAssistant",
    "ChatMessageSystem",
    "ChatMessageTool",
    "ChatMessageUser",
    "ContentReasoning",
    "GenerateConfig",
    "Model",
    "ModelAPI",
    "ModelOutput",
    "ModelUsage",
    "ResponseSchema",
    "StopReason",
    "ToolCall",
    "ToolChoice",
    "ToolFunction",
    "ToolInfo",
    "get_model",
]
