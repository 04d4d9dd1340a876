"""``eval()`` and ``eval_async()``: run tasks against models and write their logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._task import Task
from ..errors import UsageError
from ..log import EvalLog
from ..model import Model
from ._config import EvalConfig
from ._models import ModelChoice, Models, config_for, model_choices
from ._plan import RunPlan
from ._planner import plan_first_run
from ._resolve import Tasks
from ._run import execute
from ._run_models import build_runs, eval_scope
from ._sync import run_sync


def eval(tasks: Tasks, model: Models = None, **options: Any) -> list[EvalLog]:
    """Run ``tasks`` with ``model``; options are those of ``evalkit eval`` by name.

    ``model`` is a name (``provider/name``), a ``Model`` from ``get_model()`` or a
    list of them. Returns one ``EvalLog`` per task x model; its ``samples`` are read
    from the log file when first used. Works inside a running event loop (Jupyter) too.
    """
    return run_sync(lambda: eval_async(tasks, model, **options))


async def eval_async(tasks: Tasks, model: Models = None, **options: Any) -> list[EvalLog]:
    """``eval()`` for callers already in an async function."""
    choices = model_choices(model)
    config = EvalConfig.from_options(**options)
    return await eval_with_config(tasks, config, choices)


async def eval_with_config(
    tasks: Tasks, config: EvalConfig, models: Sequence[ModelChoice] | None = None
) -> list[EvalLog]:
    """Run every task with every model (``models``, else ``config.model``).

    As in Inspect, each model is made before the tasks are built, and the tasks are
    built once per model with it bound, so a ``@task`` function's ``get_model()`` is
    the model that task runs with (and ``get_model(role=...)`` the eval's role).
    """
    choices = list(models) if models else model_choices(None, config.model)
    if not choices:
        raise UsageError("no model given; pass --model provider/name (e.g. --model mockllm/model)")
    async with eval_scope():  # models a task or scorer names are shared in the eval
        built = await build_runs(tasks, config, choices)
        try:
            plans = [_plan(task, config, choice, model) for task, choice, model in built.runs]
            logs = await execute(plans, config, roles=built.roles)
        finally:
            await built.aclose()
        if config.retry_attempts:  # it retries only what is not complete (errors, cancelled)
            from ._retry import retry_until_complete

            # The options this eval was given apply to its retries too; each log's
            # header names its model, and a Model object is passed on as is.
            given = config.model_dump(exclude_unset=True,
                                      exclude={"retry_attempts", "retry_wait", "model"})
            logs = await retry_until_complete(logs, attempts=config.retry_attempts,
                                              backoff=config.retry_wait, overrides=given,
                                              tasks=[plan.task for plan in plans],
                                              models=[choice for _, choice, _ in built.runs])
        return logs


def _plan(task: Task, config: EvalConfig, choice: ModelChoice, model: Model) -> RunPlan:
    plan = plan_first_run(task, config_for(config, choice))
    plan.model = model
    return plan
