"""``eval_retry()``: rebuild a task from its log and run only what is missing."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import anyio

from .._registry import find_task
from .._task import Task
from ..errors import RetryError, TaskNotFoundError
from ..log import EvalLog, EvalSpec, read_eval_log_header
from ..model import GenerateConfig
from ._config import EvalConfig
from ._lineage import Lineage, key_of, load_lineage
from ._plan import CarriedSamples, RunPlan, WorkItem
from ._planner import build_spec, epochs_of, log_path, select_samples, work_items
from ._run import execute
from ._sample import PriorAttempts
from ._sync import run_sync

LogRef = Union[str, Path, EvalLog]
BACKOFF_CAP = 300.0


def eval_retry(logs: LogRef | Sequence[LogRef], **overrides: Any) -> list[EvalLog]:
    """Finish the runs recorded in ``logs``; options override those in the logs."""
    return run_sync(lambda: eval_retry_async(logs, **overrides))


async def eval_retry_async(
    logs: LogRef | Sequence[LogRef], until_complete: bool = False, backoff: float = 30.0,
    **overrides: Any,
) -> list[EvalLog]:
    """``eval_retry()`` for callers already in an async function."""
    refs = [logs] if isinstance(logs, (str, Path, EvalLog)) else list(logs)
    results: list[EvalLog] = []
    for ref in refs:
        results.extend(await _retry_one(_path_of(ref), overrides))
    if until_complete:
        config = EvalConfig.from_options(**overrides)
        results = await retry_until_complete(results, config, attempts=None, backoff=backoff,
                                             overrides=overrides)
    return results


async def retry_until_complete(
    logs: list[EvalLog],
    config: EvalConfig,
    *,
    attempts: int | None,
    backoff: float,
    overrides: dict[str, Any] | None = None,
) -> list[EvalLog]:
    """Retry unfinished logs with capped exponential backoff until they succeed,
    nothing retryable is left, or ``attempts`` (None: no bound) are spent."""
    round_ = 0
    done: set[int] = set()
    while attempts is None or round_ < attempts:
        pending = [i for i, log in enumerate(logs) if log.status == "error" and i not in done]
        if not pending:
            break
        wait = min(backoff * 2 ** round_, BACKOFF_CAP)
        print(f"retrying {len(pending)} unfinished eval(s) in {wait:g}s", file=sys.stderr)
        await anyio.sleep(wait)
        round_ += 1
        for i in pending:
            retried = await _retry_one(Path(str(logs[i].location)), overrides or {},
                                       only_if_work=True)
            if retried:
                logs[i] = retried[0]
            else:
                done.add(i)  # every remaining sample used up its --max-attempts
    return logs


def _path_of(ref: LogRef) -> Path:
    if isinstance(ref, EvalLog):
        if ref.location is None:
            raise RetryError("this EvalLog has no location; pass the path of its log file")
        return Path(ref.location)
    return Path(ref)


async def _retry_one(
    path: Path, overrides: dict[str, Any], only_if_work: bool = False
) -> list[EvalLog]:
    spec = read_eval_log_header(path).eval
    task = rebuild_task(spec)
    config = config_from_spec(spec).merged(**overrides)
    plan = plan_retry(path, spec, task, config)
    if only_if_work and not plan.work:
        return []
    return await execute([plan], config)


def rebuild_task(spec: EvalSpec) -> Task:
    """Import the task file recorded in ``spec`` and call the task with its args."""
    if spec.task_registry_name is None:
        raise RetryError(
            f"task {spec.task!r} was not made by a @task function, so the log does not say "
            "how to rebuild it; define it in a file with @task and run that file"
        )
    candidates = [p for p in (spec.task_file, spec.task_file_relative) if p]
    existing = [p for p in candidates if Path(p).is_file()]
    if not existing:
        raise RetryError(
            f"task file {' or '.join(candidates) or '(none recorded)'} no longer exists; "
            "restore it, or run eval-retry from the directory the eval was started in"
        )
    try:
        [(_, function)] = find_task(existing[0], spec.task_registry_name)
    except TaskNotFoundError as exc:
        raise RetryError(f"cannot rebuild task {spec.task!r}: {exc}") from exc
    return function(**spec.task_args)


def config_from_spec(spec: EvalSpec) -> EvalConfig:
    """The options of the run in ``spec``, as recorded in its header."""
    recorded = {k: v for k, v in spec.config.items() if k in EvalConfig.model_fields}
    model_args = {k: v for k, v in spec.model_args.items()
                  if not (isinstance(v, str) and v.startswith("<") and v.endswith(">"))}
    return EvalConfig.from_options(
        model=spec.model, model_args=model_args, model_base_url=spec.model_base_url,
        generate_config=GenerateConfig(**spec.generate_config), **recorded,
    )


def plan_retry(path: Path, spec: EvalSpec, task: Task, config: EvalConfig) -> RunPlan:
    """Carry over what completed anywhere in the lineage; re-run the rest."""
    if spec.dataset.ids_generated and spec.dataset.shuffled:
        raise RetryError(
            "the dataset has no sample ids and was shuffled, so the samples in the log cannot "
            "be matched to the dataset; give samples ids or load it without shuffle"
        )
    samples = select_samples(task, config)
    lineage = load_lineage(path, spec)
    if task.dataset.sha256 != spec.dataset.sha256:
        print(f"warning: the dataset of {spec.task} changed since {path.name} was written; "
              "samples whose input changed will re-run", file=sys.stderr)
    carried, fresh, again = _decide(work_items(samples, epochs_of(task, config)), lineage, config)
    new_spec = build_spec(task, config, samples, task_id=spec.task_id, retry_of=spec.run_id)
    return RunPlan(task=task, spec=new_spec, path=log_path(new_spec, config),
                   work=fresh + again, total=len(samples) * epochs_of(task, config),
                   carried=carried, never_ran=len(fresh))


def _decide(
    items: list[WorkItem], lineage: Lineage, config: EvalConfig
) -> tuple[CarriedSamples, list[WorkItem], list[WorkItem]]:
    carried, fresh, again = CarriedSamples(), [], []
    wanted = set()
    for item in items:
        key = key_of(item.sample.id, item.epoch)
        wanted.add(key)
        past = lineage.samples.get(key)
        if past is None or past.record.get("input_hash") != item.sample.input_hash():
            fresh.append(item)
        elif past.completed:
            carried.lines.append(past.line)
        elif past.attempts >= config.max_attempts and not past.record.get("cancelled"):
            carried.lines.append(past.line)
            carried.errored += 1
        else:
            item.prior = PriorAttempts(past.attempts, past.errors())
            (again if past.attempts else fresh).append(item)
    dropped = len(set(lineage.samples) - wanted)
    if dropped:
        print(f"warning: {dropped} samples in the earlier logs are no longer in the dataset "
              "(or the selection); they are dropped", file=sys.stderr)
    return carried, fresh, again
