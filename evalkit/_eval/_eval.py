"""``eval()`` and ``eval_async()``: run tasks against a model and write their logs."""

from __future__ import annotations

from typing import Any

from ..errors import UsageError
from ..log import EvalLog
from ._config import EvalConfig
from ._planner import plan_first_run
from ._resolve import Tasks, resolve_tasks
from ._run import execute
from ._sync import run_sync


def eval(tasks: Tasks, model: str | None = None, **options: Any) -> list[EvalLog]:
    """Run ``tasks`` with ``model``; options are those of ``evalkit eval`` by name.

    Returns one ``EvalLog`` per task (header and results; read samples with
    ``read_eval_log``). Works inside a running event loop (Jupyter) too.
    """
    return run_sync(lambda: eval_async(tasks, model, **options))


async def eval_async(tasks: Tasks, model: str | None = None, **options: Any) -> list[EvalLog]:
    """``eval()`` for callers already in an async function."""
    config = EvalConfig.from_options(model=model, **options)
    return await eval_with_config(tasks, config)


async def eval_with_config(tasks: Tasks, config: EvalConfig) -> list[EvalLog]:
    if config.model is None:
        raise UsageError("no model given; pass --model provider/name (e.g. --model mockllm/model)")
    resolved = resolve_tasks(tasks, config.task_args)
    plans = [plan_first_run(task, config) for task in resolved]
    logs = await execute(plans, config)
    if config.retry_attempts and any(log.status != "success" for log in logs):
        from ._retry import retry_until_complete

        # The options this eval was given apply to its retries too.
        given = config.model_dump(exclude_unset=True, exclude={"retry_attempts", "retry_wait"})
        logs = await retry_until_complete(logs, attempts=config.retry_attempts,
                                          backoff=config.retry_wait, overrides=given,
                                          tasks=resolved)
    return logs
