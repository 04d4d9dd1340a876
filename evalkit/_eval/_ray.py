"""``--executor ray``: the driver side. Samples run in Ray workers; the driver
keeps planning, the one log writer, the error policy, display and signals.

Concurrency: the driver keeps at most ``--max-samples`` samples in flight across
the cluster. ``--max-connections`` holds cluster-wide by per-worker shares: a Ray
task runs one sample at a time, so with ``--max-connections N`` the driver keeps
at most N samples in flight and each worker's model makes one call at a time.

Faults: Ray re-runs a sample whose worker or node died (``max_retries``); the
driver writes a record only when one comes back, so nothing is written twice.
A sample Ray gives up on is recorded as errored (phase ``solver``, kind
``ray_worker``), and a retry runs it again. A sample cancelled by the driver
(Ctrl-C, a threshold, a quota abort) is stopped in its worker, which sends back
what it did so far, recorded as a local run records it.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import uuid
from dataclasses import fields
from typing import Any

import anyio

from .._transcript import ModelEvent
from ..errors import ModelFatalError, UsageError
from ..log import EvalError, EvalSample
from ._plan import RunPlan, WorkItem
from ._ray_worker import (
    ModelRecipe,
    TaskModule,
    TaskPayload,
    check_task,
    run_sample,
    unpacked,
)
from ._sample import SampleContext, SampleRun

INSTALL_HINT = "pip install 'evalkit[ray]'"
SAMPLE_RETRIES = 3
"""Times Ray re-runs a sample whose worker or node died."""
STOP_GRACE = 30.0
"""Seconds a cancelled sample's worker has to send back what the sample did so far."""
_TASK_MODULE_PREFIX = "_evalkit_task_"  # load_task_file's module names


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError(f"--executor ray needs Ray, which is not installed; install it "
                         f"with: {INSTALL_HINT}") from None
    return ray


class RayExecutor:
    """Samples on a Ray cluster: the one at ``address`` (or ``$RAY_ADDRESS``), else a
    local one started for this eval."""

    def __init__(self, ray: Any, owns_connection: bool) -> None:
        self.ray = ray
        self.owns_connection = owns_connection
        self.check = ray.remote(max_retries=SAMPLE_RETRIES)(check_task)
        self.run = ray.remote(max_retries=SAMPLE_RETRIES)(run_sample)

    @classmethod
    def connect(cls, address: str | None) -> RayExecutor:
        ray = _import_ray()
        if ray.is_initialized():  # the caller's own connection (a notebook): reuse it
            return cls(ray, owns_connection=False)
        address = address or os.environ.get("RAY_ADDRESS")
        try:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                     include_dashboard=False if address is None else None)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise UsageError(f"cannot join the Ray cluster at {address or 'a new local one'}: "
                             f"{exc}; check --ray-address (or $RAY_ADDRESS)") from None
        return cls(ray, owns_connection=True)

    async def for_task(self, plan: RunPlan, context: SampleContext) -> RaySamples:
        payload = self.ray.put(_payload(context))
        try:
            await self.check.remote(payload)
        except self.ray.exceptions.RayError as exc:
            raise UsageError(
                f"task {plan.spec.task!r} cannot be loaded on a Ray worker: {_cause(exc)}; "
                "the task file is shipped to workers, but modules it imports must be "
                "installed on every node (see docs/cluster.md)") from None
        return RaySamples(self, payload, context)

    async def aclose(self) -> None:
        if self.owns_connection:
            self.ray.shutdown()


class RaySamples:
    """One task run's samples on the cluster."""

    def __init__(self, executor: RayExecutor, payload: Any, context: SampleContext) -> None:
        self.executor = executor
        self.payload = payload
        self.context = context

    def sample(self, item: WorkItem) -> RaySample:
        return RaySample(self, item)

    def in_flight(self, wanted: int) -> int:
        connections = self.context.model.config.max_connections
        return min(wanted, connections) if connections else wanted

    def count_model_calls(self, record: EvalSample) -> None:
        """Add the evaluated model's calls in ``record`` (made on a worker) to the driver's
        model, whose counters the live display shows, as a local run's calls do."""
        model = self.context.model
        for event in record.events:
            if isinstance(event, ModelEvent) and event.model == model.name:
                model.calls += 1 if event.error is None else 0
                if event.retries:
                    model.retries += len(event.retries)
                    model.last_retry = event.retries[-1]


class RaySample:
    """One sample run as a Ray task; awaiting it waits for its record."""

    def __init__(self, samples: RaySamples, item: WorkItem) -> None:
        self.samples = samples
        self.item = item
        self.stopped: EvalSample | None = None
        """Its record as the worker stopped it, once cancelled."""

    async def run(self) -> EvalSample:
        executor = self.samples.executor
        ref = executor.run.remote(self.samples.payload, self.item)
        try:
            kind, value = await ref
        except executor.ray.exceptions.RayError as exc:  # Ray gave up on it
            return self._failed(exc)
        except BaseException:  # cancelled here (Ctrl-C, a threshold, a quota abort)
            executor.ray.cancel(ref)
            with anyio.CancelScope(shield=True):
                self.stopped = await self._stopped(ref)
            raise
        if kind == "fatal":
            assert isinstance(value, ModelFatalError)
            raise value
        record = unpacked(value)
        self.samples.count_model_calls(record)
        return record

    def cancelled(self) -> EvalSample:
        return self.stopped or self._local().cancelled()

    async def _stopped(self, ref: Any) -> EvalSample | None:
        """The worker's record of the sample it stopped (its conversation, transcript and
        usage so far, as a local run keeps); None if it never started or is unreachable."""
        ray = self.samples.executor.ray
        with anyio.move_on_after(STOP_GRACE):
            try:
                kind, value = await ref
            except ray.exceptions.RayError:  # cancelled before it started, or its worker died
                return None
            if kind != "fatal":  # stopped; or it had just finished: keep it
                record = unpacked(value)
                self.samples.count_model_calls(record)
                return record
        return None

    def _failed(self, exc: BaseException) -> EvalSample:
        record = self._local().cancelled()
        record.cancelled = False
        record.error = EvalError(message=f"the sample's Ray worker failed: {_cause(exc)}",
                                 phase="solver", kind="ray_worker")
        return record

    def _local(self) -> SampleRun:
        item = self.item
        return SampleRun(self.samples.context, item.sample, item.epoch, item.prior)

def _payload(context: SampleContext) -> TaskPayload:
    cloudpickle: Any = importlib.import_module("ray.cloudpickle")  # untyped
    model = context.model
    config = model.config
    if config.max_connections:  # per-worker share: the driver caps samples in flight
        config = config.merge(type(config)(max_connections=1))
    recipe = ModelRecipe(model.name, model.base_url, config, dict(model.args))
    rest = {field.name: getattr(context, field.name) for field in fields(context)
            if field.name != "model"}
    # Role models hold connections: sent as recipes, rebuilt once per worker.
    rest["roles"] = {role: ModelRecipe(used.name, used.base_url, used.config, dict(used.args))
                     for role, used in context.roles.items()}
    try:
        pickled = cloudpickle.dumps(rest)
        cloudpickle.dumps(recipe)
    except Exception as exc:
        raise UsageError(f"the task cannot be sent to Ray workers: {exc}; solvers, scorers and "
                         "model args must be picklable") from None
    return TaskPayload(key=uuid.uuid4().hex, modules=_task_modules(), model=recipe,
                       context=pickled)


def _task_modules() -> list[TaskModule]:
    modules = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if name.startswith(_TASK_MODULE_PREFIX) and path:
            with open(path, encoding="utf-8") as handle:
                modules.append(TaskModule(name, path, handle.read()))
    return modules


def _cause(exc: BaseException) -> str:
    """The worker's own error, not Ray's wrapping of it."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    first = str(exc).strip().splitlines()
    return first[-1] if first else type(exc).__name__
