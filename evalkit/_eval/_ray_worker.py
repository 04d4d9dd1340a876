"""The worker side of ``--executor ray``: run one sample in a Ray worker process.

Imported by Ray in each worker. A worker keeps one event loop (in a thread) and,
per task run, the rebuilt task context and model, so model clients and their
connections live across the samples it runs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import pickle
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .._util._context import bound
from .._util._paths import TASK_DIRECTORY
from ..errors import ModelFatalError
from ..log import EvalSample
from ..model import GenerateConfig, get_model
from ._plan import WorkItem
from ._sample import SampleContext, SampleRun


@dataclass(frozen=True)
class TaskModule:
    """A task file imported on the driver, shipped by source so workers need no copy."""

    name: str
    """Its module name on the driver (functions are pickled by reference to it)."""
    path: str
    source: str


@dataclass(frozen=True)
class ModelRecipe:
    """How to build the evaluated model on a worker (a ``Model`` holds live clients)."""

    name: str
    base_url: str | None
    config: GenerateConfig
    args: dict[str, Any]


@dataclass(frozen=True)
class TaskPayload:
    """What every sample of one task run needs on a worker; sent once per run."""

    key: str
    modules: list[TaskModule]
    model: ModelRecipe
    context: bytes
    """The ``SampleContext`` fields but the model, cloudpickled: unpickled only once
    the task modules are imported."""


_POLL_SECONDS = 0.05
_loop: asyncio.AbstractEventLoop | None = None
_contexts: dict[str, SampleContext] = {}


def check_task(payload: TaskPayload) -> bool:
    """Load the task here, raising what stops it (run once before any sample)."""
    _context_for(payload)
    return True


def run_sample(payload: TaskPayload, item: WorkItem) -> tuple[str, Any]:
    """Run ``item`` to ``("record", record)`` or ``("fatal", ModelFatalError)``; once
    cancelled (``ray.cancel``), to ``("cancelled", record)``: what it did so far. A
    record travels as ``packed`` bytes (see ``unpacked``)."""
    run = SampleRun(_context_for(payload), item.sample, item.epoch, item.prior)
    on_loop = _OnLoop(_event_loop(), _outcome(run))
    try:
        return on_loop.result()
    except KeyboardInterrupt:  # ray.cancel raises it here: stop the sample, keep its work
        on_loop.cancel()
    try:
        return on_loop.result()  # it finished meanwhile (or a fatal error ended it)
    except concurrent.futures.CancelledError:
        return "cancelled", packed(run.cancelled())


async def _outcome(run: SampleRun) -> tuple[str, Any]:
    try:
        record: EvalSample = await run.run()
    except ModelFatalError as exc:
        return "fatal", exc
    return "record", packed(record)


def packed(record: EvalSample) -> bytes | EvalSample:
    """A record as the standard pickle writes it: Ray would cloudpickle the model, at
    about four times the CPU (~0.4 ms a sample), while bytes pass through as they are.
    A record the standard pickle refuses (a lambda in its metadata) goes as it is."""
    try:
        return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # the driver then records it as it would locally (unwritable)
        return record


def unpacked(value: bytes | EvalSample) -> EvalSample:
    """The record ``packed`` sent (from our own worker: trusted as every Ray result is)."""
    record = pickle.loads(value) if isinstance(value, bytes) else value
    assert isinstance(record, EvalSample)
    return record


class _OnLoop:
    """A coroutine run as a task on the worker's event loop, awaited from Ray's thread."""

    def __init__(self, loop: asyncio.AbstractEventLoop,
                 coroutine: Coroutine[Any, Any, tuple[str, Any]]) -> None:
        self.loop = loop
        self.done: Future[tuple[str, Any]] = Future()
        self.task: asyncio.Task[tuple[str, Any]] | None = None
        loop.call_soon_threadsafe(self._start, coroutine)

    def result(self) -> tuple[str, Any]:
        """Its result once it has ended; ``CancelledError`` if it was cancelled."""
        while True:
            # In short waits: Ray delivers ray.cancel's KeyboardInterrupt between
            # bytecodes, and one long wait on a lock would hold it off to the end.
            try:
                return self.done.result(timeout=_POLL_SECONDS)
            except concurrent.futures.TimeoutError:
                continue

    def cancel(self) -> None:
        """Cancel the task where it runs; ``result()`` then waits until it has unwound
        (as a local sample does), so what it did so far is all there."""
        self.loop.call_soon_threadsafe(self._cancel)

    def _start(self, coroutine: Coroutine[Any, Any, tuple[str, Any]]) -> None:
        self.task = self.loop.create_task(coroutine)
        self.task.add_done_callback(self._ended)

    def _cancel(self) -> None:
        assert self.task is not None  # callbacks run in order: _start came first
        self.task.cancel()

    def _ended(self, task: asyncio.Task[tuple[str, Any]]) -> None:
        if task.cancelled():
            self.done.cancel()
        elif (error := task.exception()) is not None:
            self.done.set_exception(error)
        else:
            self.done.set_result(task.result())


def _event_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, name="evalkit-samples", daemon=True).start()
        _loop = loop
    return _loop


def _context_for(payload: TaskPayload) -> SampleContext:
    context = _contexts.get(payload.key)
    if context is None:
        from ray import cloudpickle

        for module in payload.modules:
            _import(module)
        fields = cloudpickle.loads(payload.context)
        fields["roles"] = {role: get_model(made.name, base_url=made.base_url, config=made.config,
                                           **made.args)
                           for role, made in fields.get("roles", {}).items()}
        recipe = payload.model
        model = get_model(recipe.name, base_url=recipe.base_url, config=recipe.config,
                          **recipe.args)
        context = _contexts[payload.key] = SampleContext(model=model, **fields)
    return context


def _import(module: TaskModule) -> ModuleType:
    """Import a task file's source under the driver's module name."""
    if module.name in sys.modules:
        return sys.modules[module.name]
    spec = importlib.util.spec_from_loader(module.name, loader=None, origin=module.path)
    assert spec is not None
    imported = importlib.util.module_from_spec(spec)
    imported.__file__ = module.path
    directory = str(Path(module.path).parent)
    if directory not in sys.path:  # its sibling modules, where the node has them
        sys.path.append(directory)
    sys.modules[module.name] = imported
    try:
        # The user's own task file, as the driver ran it (and as load_task_file does).
        with bound(TASK_DIRECTORY, Path(module.path).parent):
            exec(compile(module.source, module.path, "exec"), imported.__dict__)
    except BaseException:
        del sys.modules[module.name]
        raise
    return imported
