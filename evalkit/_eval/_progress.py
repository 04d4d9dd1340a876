"""Live progress of a task run, read by the display.

A view, not a second set of counters: outcomes and usage come from the run's
``ResultsTally`` and retries from its ``Model``, so they can never disagree
with the log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..model import Model
from ..model._pricing import total_cost
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
    model_cost: dict[str, tuple[float, float]] = field(default_factory=dict)
    """``--model-cost`` prices, for the cost so far."""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    stop_reason: str | None = None
    """Why the run is stopping early (``cancelled``, ``threshold``, ``fatal``), if it is."""

    def start(self) -> None:
        """The run starts now (a task may wait for a ``--max-tasks`` slot first)."""
        self.started = time.monotonic()

    def finish(self) -> None:
        """The run has written its footer: time, rate and ETA stop moving."""
        self.ended = time.monotonic()

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
    def last_retry(self) -> str | None:
        """Why the latest retried model call failed."""
        return self.model.last_retry

    @property
    def executed(self) -> int:
        """Samples finished by this run (not carried over from an earlier one)."""
        return self.done - self.carried

    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def tokens(self) -> int:
        """Tokens used by the finished samples (carried ones included, as in the log)."""
        return sum(usage.total_tokens for usage in self.tally.usage.values())

    def cost(self) -> float | None:
        """Dollars so far; None when nothing was used or a model has no price."""
        return total_cost(self.tally.usage, self.model_cost)[0]

    def rate(self) -> float:
        elapsed = self.elapsed()
        return self.executed / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the current rate; None once stopping, finished or unknown."""
        if self.stop_reason is not None or self.ended is not None:
            return None
        rate = self.rate()
        remaining = self.total - self.done
        return remaining / rate if rate > 0 else None
