"""The executor seam: where a task's samples run.

The driver (``_run``, ``_task_run``) plans, writes the one log, applies the error
policy and handles signals; an executor only runs samples and hands back their
records. The local executor runs them on this process's event loop; the Ray one
(``_ray``) runs them on a cluster. Another engine plugs in by implementing
``Executor`` and ``TaskSamples``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._sample import SampleContext, SampleRun

if TYPE_CHECKING:
    from ..log import EvalSample
    from ._config import EvalConfig
    from ._plan import RunPlan, WorkItem


class SampleHandle(Protocol):
    """One sample in one epoch, about to run."""

    async def run(self) -> EvalSample:
        """Run it to its record. Raises ``ModelFatalError`` (quota, auth): the eval
        must stop. Cancelled (the driver's scope) like any awaitable."""
        ...

    def cancelled(self) -> EvalSample:
        """Its record once stopped mid-run (a retry runs it again)."""
        ...


class TaskSamples(Protocol):
    """Runs the samples of one task run."""

    def sample(self, item: WorkItem) -> SampleHandle: ...

    def in_flight(self, wanted: int) -> int:
        """How many samples to keep in flight when ``wanted`` are asked for."""
        ...


class Executor(Protocol):
    """One per eval: started before its task runs, closed after them."""

    async def for_task(self, plan: RunPlan, context: SampleContext) -> TaskSamples:
        """Get ready to run ``plan``'s samples; a task that cannot run here raises
        ``UsageError`` before any sample starts."""
        ...

    async def aclose(self) -> None: ...


class LocalSamples:
    """Samples on this process's event loop."""

    def __init__(self, context: SampleContext) -> None:
        self.context = context

    def sample(self, item: WorkItem) -> SampleHandle:
        return SampleRun(self.context, item.sample, item.epoch, item.prior)

    def in_flight(self, wanted: int) -> int:
        return wanted


class LocalExecutor:
    """The default: every sample runs in this process."""

    async def for_task(self, plan: RunPlan, context: SampleContext) -> TaskSamples:
        return LocalSamples(context)

    async def aclose(self) -> None:
        return None


def make_executor(config: EvalConfig) -> Executor:
    """The executor ``config.executor`` names (Ray is imported only when asked for)."""
    if config.executor == "ray":
        from ._ray import RayExecutor

        return RayExecutor.connect(config.ray_address)
    return LocalExecutor()
