"""``Conversation``: ``TaskState.messages``, a list that cannot grow past ``max_messages``.

``max_messages`` holds for the conversation, not only at model calls: a solver
that appends, extends, inserts or assigns a longer list while the solver's
limits are active gets ``LimitExceeded`` before the list changes, so the
conversation never holds more than N messages (see ``_limits``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import SupportsIndex, cast, overload

from ..model import ChatMessage
from ._limits import check_growth


class Conversation(list[ChatMessage]):
    """A list of messages checked against the active message limit whenever it grows."""

    def append(self, message: ChatMessage) -> None:
        check_growth(len(self), len(self) + 1)
        super().append(message)

    def insert(self, index: SupportsIndex, message: ChatMessage) -> None:
        check_growth(len(self), len(self) + 1)
        super().insert(index, message)

    def extend(self, messages: Iterable[ChatMessage]) -> None:
        items = list(messages)
        check_growth(len(self), len(self) + len(items))
        super().extend(items)

    def __iadd__(self, messages: Iterable[ChatMessage]) -> Conversation:  # type: ignore[override,misc]  # list's own accepts any iterable too
        self.extend(messages)
        return self

    def __imul__(self, times: SupportsIndex) -> Conversation:
        check_growth(len(self), len(self) * max(int(times), 0))
        return super().__imul__(times)

    @overload
    def __setitem__(self, index: SupportsIndex, value: ChatMessage) -> None: ...

    @overload
    def __setitem__(self, index: slice, value: Iterable[ChatMessage]) -> None: ...

    def __setitem__(
        self, index: SupportsIndex | slice, value: ChatMessage | Iterable[ChatMessage]
    ) -> None:
        if isinstance(index, slice):
            items = list(cast("Iterable[ChatMessage]", value))  # a slice takes an iterable
            check_growth(len(self), len(self) - len(self[index]) + len(items))
            super().__setitem__(index, items)
        else:
            super().__setitem__(index, cast("ChatMessage", value))
