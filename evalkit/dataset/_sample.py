"""``Sample`` and in-memory datasets."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from pydantic import BaseModel, Field
from pydantic_core import PydanticSerializationError

from .._util._hash import sha256_json
from ..errors import DatasetError
from ..model import ChatMessage

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

SandboxSpec = str | tuple[str, str | None]
"""A sandbox type (``"local"``), or a type with a config file (``("docker", "compose.yaml")``)."""


class Sample(BaseModel):
    """One input for the model, with the target its answer is scored against."""

    input: str | list[ChatMessage]
    target: str | list[str] = ""
    id: int | str | None = None
    choices: list[str] | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    sandbox: SandboxSpec | None = None
    """The sandbox this sample's tools run in (else the task's)."""
    files: dict[str, str] | None = None
    """Files copied into the sandbox before the solver: sandbox path -> host path or text."""
    setup: str | None = None
    """A shell script run in the sandbox after the files are copied, before the solver."""

    def input_hash(self) -> str:
        """sha256 of what the model is shown: what a retry checks to reuse a result.

        The input and choices, plus the files and setup script when the sample
        has them (left out when absent, so hashes of older logs still match).
        """
        value = self.input if isinstance(self.input, str) else [
            message.model_dump(exclude_none=True) for message in self.input
        ]
        hashed: dict[str, Any] = {"input": value, "choices": self.choices}
        if self.files:
            hashed["files"] = self.files
        if self.setup:
            hashed["setup"] = self.setup
        return sha256_json(hashed)[:32]


def sample_input_len(sample: Sample) -> int:
    """The length of a sample's input text: ``Dataset.sort``'s default key."""
    if isinstance(sample.input, str):
        return len(sample.input)
    return sum(len(message.content) for message in sample.input)


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
            return self._derived(self._samples[index], self.name)
        return self._samples[index]

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self._samples)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, samples={len(self)})"

    def filter(self, predicate: Callable[[Sample], bool], name: str | None = None) -> Dataset:
        """A new dataset of the samples for which ``predicate`` is true."""
        return self._derived([sample for sample in self._samples if predicate(sample)],
                             name or self.name)

    def _derived(self, samples: list[Sample], name: str | None) -> Dataset:
        """A subset of this dataset, keeping where it came from and how its ids were made."""
        subset = type(self)(samples, name=name, location=self.location, sha256=self._sha256,
                            shuffled=self.shuffled)
        subset.ids_generated = self.ids_generated
        return subset

    def shuffle(self, seed: int | None = None) -> None:
        """Shuffle the samples in place (seeded when ``seed`` is given)."""
        random.Random(seed).shuffle(self._samples)
        self.shuffled = True

    def sort(
        self,
        reverse: bool = False,
        key: Callable[[Sample], SupportsRichComparison] = sample_input_len,
    ) -> None:
        """Sort the samples in place, by input length unless ``key`` says otherwise."""
        self._samples.sort(key=key, reverse=reverse)

    def shuffle_choices(self, seed: int | None = None) -> None:
        """Shuffle each sample's choices in place; letter targets follow their choice."""
        rng = random.Random(seed)
        for sample in self._samples:
            if sample.choices:
                _shuffle_sample_choices(sample, rng)


class MemoryDataset(Dataset):
    """A dataset built from a list of samples in memory."""


def _shuffle_sample_choices(sample: Sample, rng: random.Random) -> None:
    """Permute ``sample.choices``; a target of letters ("A", ["A", "C"]) is re-lettered."""
    choices = sample.choices or []
    order = list(range(len(choices)))
    rng.shuffle(order)
    sample.choices = [choices[index] for index in order]
    targets = [sample.target] if isinstance(sample.target, str) else list(sample.target)
    letters = [chr(ord("A") + index) for index in range(len(choices))]
    if not targets or not all(target in letters for target in targets):
        return  # a target that is not a choice letter does not move with the choices
    new_letter = {letters[old]: letters[new] for new, old in enumerate(order)}
    moved = sorted(new_letter[target] for target in targets)
    sample.target = moved[0] if isinstance(sample.target, str) else moved


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
