"""Live progress of a task run, read by the display.

A view, not a second set of counters: outcomes come from the run's
``ResultsTally`` and retries from its ``Model``, so they can never disagree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..model import Model
from ._results import ResultsTally


@dataclass
class TaskProgress:
    task: str
    model: Model
    total: int
    log_path: str
    tally: ResultsTally
    carried: int = 0
    """Samples carried over from earlier runs (not counted in the rate)."""
    started: float = field(default_factory=time.monotonic)

    @property
    def model_name(self) -> str:
        return self.model.name

    @property
    def done(self) -> int:
        """Samples finished (completed, limited or errored); cancelled ones are not."""
        return self.tally.finished

    @property
    def errors(self) -> int:
        return self.tally.counts["error"]

    @property
    def limited(self) -> int:
        return self.tally.counts["limited"]

    @property
    def cancelled(self) -> int:
        return self.tally.counts["cancelled"]

    @property
    def retries(self) -> int:
        return self.model.retries

    @property
    def executed(self) -> int:
        """Samples finished by this run (not carried over from an earlier one)."""
        return self.done - self.carried

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.executed / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        remaining = self.total - self.done
        return remaining / rate if rate > 0 else None
