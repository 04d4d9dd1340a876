"""``Task``: a dataset, the solvers that answer it and the scorer that grades them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._policy import FailOnError, validate_fail_on_error
from .dataset import Dataset, MemoryDataset, Sample
from .dataset._sample import SandboxSpec
from .errors import UsageError
from .model import GenerateConfig
from .scorer import Metric, Scorer, get_reducer, match
from .solver import SampleLimits, Solver, chain, generate
from .tool._sandbox import sandbox_type


@dataclass(frozen=True)
class Epochs:
    """Run every sample ``epochs`` times and reduce the scores with ``reducer``."""

    epochs: int
    reducer: str = "mean"

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise UsageError(f"epochs must be a whole number >= 1, got {self.epochs!r}")
        get_reducer(self.reducer)


@dataclass(frozen=True)
class TaskOrigin:
    """Where a ``@task`` came from, so a retry can rebuild it."""

    file: str | None
    name: str
    args: dict[str, Any] = field(default_factory=dict)


class Task:
    """An evaluation: samples, the solver that answers them, the scorer that grades."""

    def __init__(
        self,
        dataset: Dataset | Sequence[Sample],
        solver: Solver | Sequence[Solver] | None = None,
        scorer: Scorer | Sequence[Scorer] | None = None,
        epochs: int | Epochs = 1,
        fail_on_error: FailOnError = True,
        continue_on_fail: bool = False,
        retry_on_error: int = 0,
        max_messages: int | None = None,
        token_limit: int | None = None,
        time_limit: float | None = None,
        name: str | None = None,
        metadata: dict[str, Any] | None = None,
        message_limit: int | None = None,
        *,
        setup: Solver | Sequence[Solver] | None = None,
        metrics: Sequence[Metric] | None = None,
        config: GenerateConfig | None = None,
        sandbox: SandboxSpec | None = None,
        version: int | str = 0,
    ) -> None:
        self.dataset = dataset if isinstance(dataset, Dataset) else MemoryDataset(list(dataset))
        # setup runs first, as its own step, so replacing the solver keeps it (Inspect).
        self.setup = None if setup is None else _as_solver(setup)
        self.solver = _as_solver(solver) if self.setup is None else chain(
            self.setup, _as_solver(solver))
        self.scorers = _as_scorers(scorer)
        self.metrics = None if metrics is None else list(metrics)
        """Metrics for every scorer, in place of the ones each scorer declares."""
        self.config = config or GenerateConfig()
        """Generation options for this task; the eval's own (``--temperature``...) win."""
        self.sandbox = sandbox
        _check_sandboxes(sandbox, self.dataset)
        self.version = version
        self.epochs = epochs if isinstance(epochs, Epochs) else Epochs(epochs)
        self.fail_on_error = validate_fail_on_error(fail_on_error)
        self.continue_on_fail = continue_on_fail
        if retry_on_error < 0:
            raise UsageError(f"retry_on_error must be >= 0, got {retry_on_error}")
        self.retry_on_error = retry_on_error
        if max_messages is not None and message_limit is not None:
            raise UsageError("give max_messages or its alias message_limit, not both")
        messages = max_messages if max_messages is not None else message_limit
        self.limits = SampleLimits(messages, token_limit, time_limit)
        self.name = name
        self.metadata = metadata or {}
        self.origin: TaskOrigin | None = None
        """Set by ``@task``; ``None`` for a task that cannot be rebuilt by a retry."""

    @property
    def display_name(self) -> str:
        return self.name or (self.origin.name if self.origin else "task")

    def __repr__(self) -> str:
        return f"Task(name={self.display_name!r}, samples={len(self.dataset)})"


def _check_sandboxes(task_sandbox: SandboxSpec | None, dataset: Dataset) -> None:
    """UsageError now, before any sample runs, for a sandbox type that does not exist."""
    sandbox_type(task_sandbox)
    for spec in {sample.sandbox for sample in dataset if sample.sandbox is not None}:
        sandbox_type(spec)


def _as_solver(solver: Solver | Sequence[Solver] | None) -> Solver:
    if solver is None:
        return generate()
    if isinstance(solver, Sequence):
        return chain(*solver)
    return solver


def _as_scorers(scorer: Scorer | Sequence[Scorer] | None) -> list[Scorer]:
    if scorer is None:
        return [match()]
    if isinstance(scorer, Sequence):
        return list(scorer)
    return [scorer]
