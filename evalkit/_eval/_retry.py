"""``eval_retry()``: rebuild a task from its log and run only what is missing.

A retry writes a new log with the same ``task_id``, a new ``run_id`` and
``retry_of`` naming the run it retries; no earlier log is ever opened for
writing. What to re-run is decided over the whole lineage (see ``_lineage``):
completed samples are copied as the raw lines already on disk, samples that
never ran go first, then those that failed fewer than ``max_attempts`` times.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from .._registry import find_task
from .._task import Task
from .._util._signals import note_log, on_signal
from ..dataset import Sample
from ..errors import RetryError, TaskNotFoundError, UsageError
from ..log import EvalLog, EvalSpec, read_eval_log_header
from ..model import Model
from ._config import EvalConfig
from ._display import resume_command
from ._lineage import Lineage, gc_paused, input_hash_of, load_lineage
from ._lock import hold_lineages
from ._models import bound_model, config_for
from ._plan import CarriedSamples, RunPlan, WorkItem
from ._planner import build_spec, epochs_of, log_path, select_samples
from ._recorded import config_from_spec, credentials_for, is_unrecorded, task_args_of
from ._run import execute
from ._sync import run_sync

LogRef = str | Path | EvalLog


class RetryInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM while waiting between ``--until-complete`` rounds."""


BACKOFF_CAP = 300.0
"""Longest wait between two ``--until-complete`` rounds, in seconds."""


def eval_retry(
    logs: LogRef | Sequence[LogRef], *, until_complete: bool = False, backoff: float = 30.0,
    **overrides: Any,
) -> list[EvalLog]:
    """Finish the runs recorded in ``logs``; options (as for ``eval()``) override the logs'."""
    return run_sync(lambda: eval_retry_async(logs, until_complete=until_complete,
                                             backoff=backoff, **overrides))


async def eval_retry_async(
    logs: LogRef | Sequence[LogRef], *, until_complete: bool = False, backoff: float = 30.0,
    **overrides: Any,
) -> list[EvalLog]:
    """``eval_retry()`` for callers already in an async function."""
    refs = [logs] if isinstance(logs, (str, Path, EvalLog)) else list(logs)
    if not refs:
        raise UsageError("no logs given; name the log files to retry (`evalkit log ls`)")
    model = overrides.pop("model", None) if isinstance(overrides.get("model"), Model) else None
    EvalConfig.from_options(**overrides)  # a bad option fails before anything runs
    if backoff < 0:
        raise UsageError(f"--backoff must be a number of seconds >= 0, got {backoff:g}")
    results: list[EvalLog] = []
    for ref in refs:
        results.extend(await _retry_one(_path_of(ref), overrides, model=model))
    if until_complete:
        results = await retry_until_complete(results, attempts=None, backoff=backoff,
                                             overrides=overrides, models=[model] * len(results))
    return results


async def retry_until_complete(
    logs: list[EvalLog],
    *,
    attempts: int | None,
    backoff: float,
    overrides: dict[str, Any],
    tasks: Sequence[Task] | None = None,
    models: Sequence[str | Model | None] | None = None,
) -> list[EvalLog]:
    """Retry failed logs with capped exponential backoff until they succeed, nothing
    retryable is left, or ``attempts`` rounds (None: no bound) are spent.

    ``overrides`` are options over those in the logs; ``tasks``, when given, are
    the in-memory tasks of ``logs`` (same order), so tasks made without ``@task``
    can be retried in-process too; ``models`` likewise keeps the ``Model`` objects
    the logs ran with (their callables cannot be rebuilt from a log).
    """
    logs, rounds, finished = list(logs), 0, set()
    in_memory = dict(enumerate(tasks or []))
    given = {i: m for i, m in enumerate(models or []) if isinstance(m, Model)}
    while attempts is None or rounds < attempts:
        pending = [i for i, log in enumerate(logs) if log.status == "error" and i not in finished]
        if not pending:
            break
        wait = min(backoff * 2 ** rounds, BACKOFF_CAP)
        print(f"retrying {len(pending)} unfinished eval(s) in {wait:g}s", file=sys.stderr)
        if await _sleep_unless_interrupted(wait):
            _print_resume([logs[i] for i in pending])
            raise RetryInterrupted
        rounds += 1
        for i in pending:
            try:
                retried = await _retry_one(Path(str(logs[i].location)), overrides,
                                           only_if_work=True, task=in_memory.get(i),
                                           model=given.get(i))
            except RetryError as exc:
                print(f"warning: not retrying {logs[i].eval.task}: {exc}", file=sys.stderr)
                retried = []
            if retried:
                logs[i] = retried[0]
            else:
                finished.add(i)  # nothing retryable: every failure used up --max-attempts
    return logs


async def _sleep_unless_interrupted(seconds: float) -> bool:
    """Wait ``seconds``; True if Ctrl-C or SIGTERM came first."""
    interrupted = False
    with anyio.CancelScope() as scope:

        def stop(signum: int) -> None:
            nonlocal interrupted
            interrupted = True
            scope.cancel()

        with on_signal(stop):
            await anyio.sleep(seconds)
    return interrupted


def _print_resume(logs: Sequence[EvalLog]) -> None:
    print("interrupted while waiting to retry", file=sys.stderr)
    for log in logs:
        print(f"resume with: {resume_command(log)}", file=sys.stderr, flush=True)


def _path_of(ref: LogRef) -> Path:
    if isinstance(ref, EvalLog):
        if ref.location is None:
            raise RetryError("this EvalLog has no location; pass the path of its log file")
        return Path(ref.location)
    return Path(ref)


async def _retry_one(
    path: Path, overrides: dict[str, Any], only_if_work: bool = False, task: Task | None = None,
    model: Model | None = None,
) -> list[EvalLog]:
    spec = read_eval_log_header(path).eval
    note_log(spec.task_id, path)  # what a Ctrl-C from here on says to resume
    config = retry_config(spec, path, overrides, model)
    # Locked before reading the lineage, so no other run adds to it between planning and
    # running: two retries of one log would otherwise both run every missing sample.
    lineages = [(path.parent, spec.task_id, spec.task),
                (Path(config.log_dir or path.parent), spec.task_id, spec.task)]
    with hold_lineages(lineages):
        task = task or rebuild_task(spec)
        plan = plan_retry(path, spec, task, config)
        plan.model = bound_model(model, config)
        if only_if_work and not (plan.work or plan.then):
            return []
        return await execute([plan], config)


def rebuild_task(spec: EvalSpec) -> Task:
    """Import the task file recorded in ``spec`` and call the task with its args."""
    name = spec.task_registry_name
    if name is None:
        raise RetryError(
            f"task {spec.task!r} was not made by a @task function, so its log does not say "
            "how to rebuild it; define it with @task in a .py file and run that file"
        )
    candidates = list(dict.fromkeys(p for p in (spec.task_file, spec.task_file_relative) if p))
    existing = [p for p in candidates if Path(p).is_file()]
    if not existing and any(Path(p).parent.name.startswith("ipykernel_") for p in candidates):
        raise RetryError(
            f"task {spec.task!r} was defined in a notebook cell, which leaves no file to "
            "rebuild it from; put the @task in a .py file (e.g. with %%writefile) and "
            "evaluate it by path"
        )
    if not existing:
        raise RetryError(
            f"cannot rebuild task {spec.task!r}: its file {' or '.join(candidates) or '?'} "
            "no longer exists; put it back, or run eval-retry from the directory the eval "
            "was started in"
        )
    problems = []
    for candidate in existing:
        try:
            [(_, function)] = find_task(candidate, name)
        except TaskNotFoundError as exc:
            problems.append(str(exc))
            continue
        try:
            return function(**task_args_of(spec))
        except UsageError as exc:
            raise RetryError(f"cannot rebuild task {spec.task!r} with the arguments in the "
                             f"log: {exc}") from exc
    raise RetryError(f"cannot rebuild task {spec.task!r}: {'; '.join(problems)}; restore the "
                     f"@task function {name!r} or retry with the file that defines it")


def retry_config(
    spec: EvalSpec, path: Path, overrides: dict[str, Any], model: Model | None = None
) -> EvalConfig:
    """The recorded options of the run, overridden by those given to the retry.

    ``-M`` values are merged into the recorded model args; the new log goes next
    to ``path`` (unless ``log_dir`` is given) so the lineage stays together. A
    ``Model`` object given to the retry brings its own name and args.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    recorded = config_from_spec(spec)
    given["model_args"] = {**recorded.model_args, **given.get("model_args", {})}
    given.setdefault("log_dir", str(path.parent))
    if model is not None:
        return config_for(recorded.merged(**given), model)
    _refuse_unrecorded_args(spec, path, given["model_args"])
    return recorded.merged(**credentials_for(spec, given, shlex.quote(str(path))))


def _refuse_unrecorded_args(spec: EvalSpec, path: Path, given: dict[str, Any]) -> None:
    """Running without an arg the log could not hold would silently change the model
    (a mockllm without its ``custom_outputs`` answers its default text)."""
    missing = {key: value for key, value in spec.model_args.items()
               if is_unrecorded(value) and key not in given}
    if not missing:
        return
    shown = ", ".join(f"{key}={value}" for key, value in missing.items())
    args = ", ".join(f"{key}=..." for key in missing)
    raise RetryError(
        f"cannot rebuild model {spec.model!r}: it was given {shown}, which a log cannot "
        f"hold; retry from Python with the model given again: eval_retry({str(path)!r}, "
        f"model=get_model({spec.model!r}, {args})) (or give plain values with -M KEY=VALUE)"
    )


def plan_retry(path: Path, spec: EvalSpec, task: Task, config: EvalConfig) -> RunPlan:
    """Carry over what completed anywhere in the lineage; re-run the rest."""
    if spec.dataset.ids_generated and spec.dataset.shuffled:
        raise RetryError(
            "the dataset's samples have no ids and it was shuffled, so the samples in the log "
            "cannot be matched to the dataset; give every sample an id, or load the dataset "
            "without shuffle, and run the eval again"
        )
    samples = select_samples(task, config)
    lineage = load_lineage(path, spec)
    if spec.dataset.sha256 and task.dataset.sha256 != spec.dataset.sha256:
        print(f"warning: the dataset of {spec.task} changed since {path.name} was written; "
              "samples whose input changed will re-run", file=sys.stderr)
    epochs = epochs_of(task, config)
    with gc_paused():
        carried, fresh, again = decide(samples, epochs, lineage, config.max_attempts)
    if carried.errored:
        print(f"warning: {carried.errored} samples failed {config.max_attempts} times "
              "(--max-attempts) and are not run again; they stay errored. Retry with a "
              "higher --max-attempts to try them again", file=sys.stderr)
    new_spec = build_spec(task, config, samples, task_id=spec.task_id, retry_of=spec.run_id)
    return RunPlan(task=task, spec=new_spec, path=log_path(new_spec, config),
                   work=fresh, then=again, total=len(samples) * epochs, epochs=epochs,
                   carried=carried)


def decide(
    samples: Sequence[Sample], epochs: int, lineage: Lineage, max_attempts: int
) -> tuple[CarriedSamples, list[WorkItem], list[WorkItem]]:
    """Split samples x epochs into carried-over lines, never-run items and items to run
    again. The hot path of a retry: one dict lookup per sample and epoch."""
    carried = CarriedSamples()
    carry = carried.lines.append
    fresh: list[WorkItem] = []
    again: list[WorkItem] = []
    records, known, changed = lineage.records, lineage.keys(), 0
    hashes = [input_hash_of(sample) for sample in samples]  # once, not once per epoch
    for epoch in range(1, epochs + 1):
        for sample, input_hash in zip(samples, hashes, strict=True):
            key = (str(sample.id), epoch)
            past = records.get((key, input_hash))
            if past is None:
                changed += key in known  # it ran before, on another input
                fresh.append(WorkItem(sample, epoch))
            elif past.status == "completed":
                carry(past.line)
            elif past.status == "error" and past.attempts >= max_attempts:
                carry(past.line)  # failed max_attempts times: stays errored
                carried.errored += 1
            else:
                item = WorkItem(sample, epoch, past.prior_attempts())
                (again if past.attempts else fresh).append(item)
    matched = len(carried.lines) + len(again) + changed + sum(1 for item in fresh if item.prior)
    _warn_about_changes(changed, dropped=len(known) - matched)
    return carried, fresh, again


def _warn_about_changes(changed: int, dropped: int) -> None:
    if changed:
        print(f"warning: {changed} samples' input changed since they ran; they run again",
              file=sys.stderr)
    if dropped > 0:
        print(f"warning: {dropped} samples in the earlier logs are no longer in the dataset "
              "(or the selection); they are dropped from the new log", file=sys.stderr)
