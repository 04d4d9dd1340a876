"""``LazySamples``: the samples of a log file, read from it when used.

``eval()`` and ``eval_retry()`` return logs whose ``samples`` is one of these:
indexing, ``len()`` and iteration work as on a list, but nothing is read until
first used and samples are streamed from the file, so iterating a log of any
size holds one sample at a time. Nothing is cached except the count.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    from ._records import EvalSample


class LazySamples(Sequence["EvalSample"]):
    """A read-only sequence of the samples in the log at ``path``, in file order."""

    def __init__(self, path: str | Path) -> None:
        # Absolute: a notebook may change directory before the samples are read.
        self.path = Path(path).absolute()
        self._count: int | None = None
        self._cursor: tuple[int, Iterator[bytes]] | None = None

    def __repr__(self) -> str:
        return f"<samples of {self.path.name}, read from the file on access>"

    def __len__(self) -> int:
        if self._count is None:
            self._count = _count_samples(self.path)
        return self._count

    def __iter__(self) -> Iterator[EvalSample]:
        from ._reader import read_eval_log_samples

        return read_eval_log_samples(self.path)

    @overload
    def __getitem__(self, index: int) -> EvalSample: ...

    @overload
    def __getitem__(self, index: slice) -> list[EvalSample]: ...

    def __getitem__(self, index: int | slice) -> EvalSample | list[EvalSample]:
        if isinstance(index, slice):
            wanted = range(len(self))[index]
            found = {i: sample for i, sample in enumerate(self) if i in wanted}
            return [found[i] for i in wanted]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"sample index {index} out of range ({len(self)} samples)")
        return self._at(position)

    def _at(self, position: int) -> EvalSample:
        """The sample at ``position``, decoding only that one; reading in order
        (``samples[0]``, ``samples[1]``...) goes on from the last position."""
        from ._reader import iter_sample_lines
        from ._records import EvalSample

        start, lines = self._cursor or (0, iter(()))
        if self._cursor is None or position < start:
            start, lines = 0, iter_sample_lines(self.path)
        for _ in range(position - start):
            next(lines)
        sample = EvalSample.model_validate_json(next(lines))
        self._cursor = (position + 1, lines)
        return sample


def _count_samples(path: Path) -> int:
    """From the index of a finished log (O(1)); else by counting the sample lines."""
    from ._index import read_index
    from ._reader import iter_sample_lines

    with path.open("rb") as handle:
        index = read_index(handle, path.stat().st_size)
    if index is not None:
        return index.samples
    return sum(1 for _ in iter_sample_lines(path))
