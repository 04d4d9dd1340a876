"""``Sample`` and in-memory datasets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any, overload

from pydantic import BaseModel, Field
from pydantic_core import PydanticSerializationError

from .._util._hash import sha256_json
from ..errors import DatasetError
from ..model import ChatMessage


class Sample(BaseModel):
    """One input for the model, with the target its answer is scored against."""

    input: str | list[ChatMessage]
    target: str | list[str] = ""
    id: int | str | None = None
    choices: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    def input_hash(self) -> str:
        """sha256 of the input (and choices): what a retry checks to reuse a result."""
        value = self.input if isinstance(self.input, str) else [
            message.model_dump(exclude_none=True) for message in self.input
        ]
        return sha256_json({"input": value, "choices": self.choices})[:32]


class Dataset(Sequence[Sample]):
    """An ordered collection of samples with where it came from.

    ``sha256`` is the hash of the source file (or of the samples for a dataset
    built in memory); ``shuffled`` says whether the order was randomised, which
    matters to a retry when samples have no ids of their own.
    """

    def __init__(
        self,
        samples: Sequence[Sample],
        *,
        name: str | None = None,
        location: str | None = None,
        sha256: str | None = None,
        shuffled: bool = False,
    ) -> None:
        self._samples = list(samples)
        self.ids_generated = False
        for index, sample in enumerate(self._samples):
            if sample.id is None:
                # In place, not a copy: a copy would double a large dataset's memory.
                sample.id = index + 1
                self.ids_generated = True
        self.name = name
        self.location = location
        self._sha256 = sha256
        self.shuffled = shuffled

    @property
    def sha256(self) -> str:
        """Hash of the source file, or of the samples themselves (computed once)."""
        if self._sha256 is None:
            # One sample at a time: a list of every sample's dump would double peak memory.
            digest = hashlib.sha256()
            for sample in self._samples:
                digest.update(_sample_json(sample))
                digest.update(b"\n")
            self._sha256 = digest.hexdigest()
        return self._sha256

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> Dataset: ...

    def __getitem__(self, index: int | slice) -> Sample | Dataset:
        if isinstance(index, slice):
            return Dataset(self._samples[index], name=self.name, location=self.location,
                           sha256=self._sha256, shuffled=self.shuffled)
        return self._samples[index]

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self._samples)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, samples={len(self)})"


class MemoryDataset(Dataset):
    """A dataset built from a list of samples in memory."""


def _sample_json(sample: Sample) -> bytes:
    """``sample`` as JSON bytes; a DatasetError if it cannot be (it could never be logged)."""
    try:
        return sample.model_dump_json().encode()
    except PydanticSerializationError as exc:
        raise DatasetError(
            f"sample {sample.id!r} cannot be written to a log ({exc}); a string in it most "
            "likely holds a lone surrogate, from text decoded with errors='surrogateescape'. "
            "Clean it before building the Sample, e.g. "
            "text.encode('utf-8', 'replace').decode('utf-8')"
        ) from exc
