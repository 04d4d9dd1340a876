"""``TaskState``: everything a solver reads and changes while a sample runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..dataset import Target
from ..model import ChatMessage, ChatMessageUser, ModelOutput, ToolChoice
from ._choices import Choices
from ._conversation import Conversation
from ._limits import check_growth
from ._store import Store

if TYPE_CHECKING:
    from ..tool import Tool


class TaskState:
    """The state of one sample in one epoch, passed through the solvers."""

    def __init__(
        self,
        *,
        model: str,
        sample_id: int | str,
        epoch: int,
        input: str | Sequence[ChatMessage],
        target: Target,
        messages: list[ChatMessage],
        choices: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.sample_id = sample_id
        self.epoch = epoch
        self.input = input
        self.target = target
        self._messages = Conversation(messages)
        self.choices = Choices(choices or [])
        """The sample's options (empty when it has none); ``multiple_choice`` marks the picks."""
        self.metadata = metadata if metadata is not None else {}
        self.store = Store()
        """Scratch values shared by this sample's solvers, tools and scorers."""
        self.output = ModelOutput(model=model)
        self.tools: list[Tool] = []
        self.tool_choice: ToolChoice | None = None
        self.completed = False
        """Set by a solver to end the solver chain early."""

    @property
    def messages(self) -> list[ChatMessage]:
        """The conversation so far. While the solver runs it never holds more than
        ``max_messages``: growing it past that raises ``LimitExceeded``."""
        return self._messages

    @messages.setter
    def messages(self, messages: list[ChatMessage]) -> None:
        # Assigning a longer list grows the conversation as appending does.
        check_growth(len(self._messages), len(messages))
        self._messages = messages if isinstance(messages, Conversation) else Conversation(
            messages)

    @property
    def input_text(self) -> str:
        """The input as text: the string, or the last user message's content."""
        if isinstance(self.input, str):
            return self.input
        users = [m for m in self.input if isinstance(m, ChatMessageUser)]
        return users[-1].content if users else ""

    @property
    def user_prompt(self) -> ChatMessageUser:
        """The first user message (solvers may rewrite its content)."""
        for message in self.messages:
            if isinstance(message, ChatMessageUser):
                return message
        raise ValueError("the conversation has no user message")
