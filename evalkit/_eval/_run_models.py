"""The models of a run, made before its task is built.

Inspect makes the evaluated model (and the eval's model roles) before it calls a
``@task`` function, so a task may call ``get_model()`` or
``get_model(role="grader")`` while it builds its solvers and scorers and get the
model the eval runs with. evalkit does the same: ``eval()`` and ``eval_retry()``
make each run's model here, build the task with it bound (a context variable set
around the build only, nothing global), and hand the same objects to the runner,
so a grader captured at build time shares the run's connection pool and limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import anyio

from .._task import Task
from ..model import Model, get_model
from ..model._model import bind_active_model, bind_model_roles
from ..model._registry import bind_eval_models, eval_models
from ._config import EvalConfig
from ._models import ModelChoice, bound_model, config_for, role_models
from ._resolve import Tasks, resolve_tasks


def named_model(name: str, config: EvalConfig) -> Model:
    """The model ``name`` with the eval's model args, base URL and generate config."""
    args = dict(config.model_args)
    # --model-base-url wins over -M base_url; given either way it is passed once.
    base_url = config.model_base_url or args.pop("base_url", None)
    args.pop("base_url", None)
    return get_model(name, base_url=base_url, config=config.effective_generate_config(),
                     **args)


def run_model(choice: ModelChoice, config: EvalConfig) -> Model:
    """The model a run with ``config`` (its model already chosen) evaluates: a given
    ``Model``'s run copy, or the model ``choice`` names."""
    return bound_model(choice, config) or named_model(str(choice), config)


def run_roles(config: EvalConfig, choices: Iterable[ModelChoice],
              models: Iterable[Model]) -> dict[str, Model]:
    """The eval's role models; a role naming an evaluated model (given by name) gets
    that very object, as the runner would."""
    built = {model.name: model for choice, model in zip(choices, models, strict=True)
             if isinstance(choice, str)}
    return role_models(config, built)


@asynccontextmanager
async def eval_scope() -> AsyncIterator[None]:
    """The span of one eval (or retry, or eval set): a model ``get_model`` makes in it is
    made once per way of naming it and shared, and released when the span ends."""
    if eval_models() is not None:  # already inside one (eval()'s own retries)
        yield
        return
    made: dict[str, Model] = {}
    try:
        with bind_eval_models(made):
            yield
    finally:
        await close_models(made.values())


@contextmanager
def building_with(model: Model, roles: Mapping[str, Model]) -> Iterator[None]:
    """Build a task inside this block: ``get_model()`` is ``model``, and
    ``get_model(role=...)`` the eval's role models, as in a running sample."""
    with bind_active_model(model), bind_model_roles(roles):
        yield


async def close_models(models: Iterable[Model]) -> None:
    """Release the connections of ``models`` (each once; they stay usable)."""
    with anyio.CancelScope(shield=True):
        for model in {id(m): m for m in models}.values():
            await model.aclose()


@dataclass
class BuiltRuns:
    """Every task x model of an eval, built, with the models they run with."""

    runs: list[tuple[Task, ModelChoice, Model]]
    """Task-major, as logs are returned: each task with every model in turn."""
    roles: dict[str, Model]

    async def aclose(self) -> None:
        """Release every model's connections (the runner also does, when it ran)."""
        await close_models([*(model for _, _, model in self.runs), *self.roles.values()])


async def build_runs(tasks: Tasks, config: EvalConfig, choices: Sequence[ModelChoice],
                     ) -> BuiltRuns:
    """Make each model of ``choices``, then build ``tasks`` once per model with it
    bound (Inspect's order), so each task's build-time ``get_model()`` is its model."""
    made = [run_model(choice, config_for(config, choice)) for choice in choices]
    roles = run_roles(config, choices, made)
    try:
        built = []
        for model in made:
            with building_with(model, roles):
                built.append(resolve_tasks(tasks, config.task_args))
    except BaseException:
        await close_models([*made, *roles.values()])
        raise
    runs = [(by_model[index], choice, model) for index in range(len(built[0]))
            for choice, model, by_model in zip(choices, made, built, strict=True)]
    return BuiltRuns(runs, roles)
