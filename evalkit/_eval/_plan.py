"""``RunPlan``: what one task run will do, for a first run or a retry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .._task import Task
from ..dataset import Sample
from ..log import EvalSpec
from ..model import Model
from ._lineage import CarriedSamples
from ._sample import PriorAttempts


@dataclass
class WorkItem:
    sample: Sample
    epoch: int
    prior: PriorAttempts | None = None


@dataclass
class RunPlan:
    task: Task
    spec: EvalSpec
    path: Path
    work: Iterable[WorkItem]
    """Samples that never ran. Consumed once, in order; a generator for a first run,
    so memory stays flat."""
    total: int
    epochs: int = 1
    carried: CarriedSamples = field(default_factory=CarriedSamples)
    then: list[WorkItem] = field(default_factory=list)
    """A retry's erred samples: run only once ``work`` is done and the run goes on, so
    a deterministic failure cannot cancel samples that never ran (DESIGN §4)."""
    model: Model | None = None
    """A ``Model`` object given to ``eval()``: run as is (its custom args kept), not
    rebuilt from ``spec.model``."""
    source: Path | None = None
    """The log a retry resumes: the one to resume from if this run's own log ends
    up holding nothing new (a full disk)."""
