"""``Task``: a dataset, the solvers that answer it and the scorer that grades them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._policy import FailOnError, validate_fail_on_error
from .dataset import Dataset, MemoryDataset, Sample
from .dataset._sample import SandboxSpec
from .errors import UsageError
from .model import GenerateConfig
from .scorer import Scorer, match
from .scorer._metric import MetricSpec
from .scorer._reducer import ScoreReducer, ScoreReducers, create_reducers, reducer_name
from .solver import SampleLimits, Solver, chain, generate
from .tool._sandbox import sandbox_type


class Epochs:
    """Run every sample ``epochs`` times and reduce each sample's scores with ``reducer``:
    a name ("mean", "median", "mode", "max", "min", "at_least_2", "pass_at_1"), a
    ``ScoreReducer`` or a list of these (one set of metrics per reducer)."""

    def __init__(self, epochs: int, reducer: ScoreReducers | None = None) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise UsageError(f"epochs must be a whole number >= 1, got {epochs!r}")
        self.epochs = epochs
        self.reducers: list[ScoreReducer] = create_reducers(reducer)

    @property
    def reducer(self) -> str:
        """The reducers' names, comma separated (as recorded in the eval config)."""
        return ",".join(reducer_name(r) for r in self.reducers)

    def __repr__(self) -> str:
        return f"Epochs({self.epochs}, {self.reducer!r})"


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
        metrics: MetricSpec | None = None,
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
        self.metrics: MetricSpec | None = (
            None if metrics is None else metrics if isinstance(metrics, Mapping) else list(metrics))
        """Metrics replacing the scorers' own: a list, or a dict of score key to list."""
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
