"""Live counters of a task run, read by the display."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class TaskProgress:
    task: str
    model: str
    total: int
    log_path: str
    done: int = 0
    errors: int = 0
    limited: int = 0
    cancelled: int = 0
    carried: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)

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
