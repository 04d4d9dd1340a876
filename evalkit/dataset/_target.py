"""``Target``: the answer (or answers) a sample is scored against."""

from __future__ import annotations

from collections.abc import Iterator, Sequence


class Target(Sequence[str]):
    """One or more target strings; ``text`` joins them."""

    def __init__(self, target: str | Sequence[str]) -> None:
        self.target = [target] if isinstance(target, str) else list(target)

    @property
    def text(self) -> str:
        return "".join(self.target)

    def __getitem__(self, index: int) -> str:  # type: ignore[override]  # str items only
        return self.target[index]

    def __len__(self) -> int:
        return len(self.target)

    def __iter__(self) -> Iterator[str]:
        return iter(self.target)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Target):
            return self.target == other.target
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.target))

    def __repr__(self) -> str:
        return f"Target({self.target!r})"
