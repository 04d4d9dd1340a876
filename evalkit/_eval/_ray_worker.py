"""The worker side of ``--executor ray``: run one sample in a Ray worker process.

Imported by Ray in each worker. A worker keeps one event loop (in a thread) and,
per task run, the rebuilt task context and model, so model clients and their
connections live across the samples it runs.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import threading
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


_loop: asyncio.AbstractEventLoop | None = None
_contexts: dict[str, SampleContext] = {}


def check_task(payload: TaskPayload) -> bool:
    """Load the task here, raising what stops it (run once before any sample)."""
    _context_for(payload)
    return True


def run_sample(payload: TaskPayload, item: WorkItem) -> tuple[str, Any]:
    """Run ``item`` to ``("record", EvalSample)``, or ``("fatal", ModelFatalError)``."""
    context = _context_for(payload)
    future: Future[tuple[str, Any]] = asyncio.run_coroutine_threadsafe(
        _run(context, item), _event_loop())
    try:
        return future.result()
    except BaseException:  # ray.cancel raises KeyboardInterrupt here: stop the sample too
        future.cancel()
        raise


async def _run(context: SampleContext, item: WorkItem) -> tuple[str, Any]:
    run = SampleRun(context, item.sample, item.epoch, item.prior)
    try:
        record: EvalSample = await run.run()
    except ModelFatalError as exc:
        return "fatal", exc
    return "record", record


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
