"""``Store``: a sample's key-value scratch space shared by its solvers, tools and scorers."""

from __future__ import annotations

from collections.abc import ItemsView, KeysView, ValuesView
from typing import Any, TypeVar, overload

V = TypeVar("V")


class Store:
    """Values a sample keeps between steps (``state.store``), as in Inspect AI."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    @overload
    def get(self, key: str) -> Any: ...

    @overload
    def get(self, key: str, default: V) -> V: ...

    def get(self, key: str, default: Any = None) -> Any:
        """The value at ``key``; a given default is stored there when the key is new."""
        if key not in self._data and default is not None:
            self._data[key] = default
        return self._data.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._data[key] = value

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def values(self) -> ValuesView[Any]:
        return self._data.values()

    def items(self) -> ItemsView[str, Any]:
        return self._data.items()

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Store({self._data!r})"
