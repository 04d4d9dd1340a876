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
from .._util._signals import note_log, on_signal, raise_if_stop_requested
from ..dataset import Sample
from ..errors import RetryError, TaskNotFoundError, UsageError
from ..log import EvalLog, EvalSpec, read_eval_log_header
from ..model import Model
from ._config import EvalConfig
from ._display import resume_command
from ._lineage import CarriedSamples, Lineage, gc_paused, input_hash_of, load_lineage
from ._lock import hold_lineages
from ._models import config_for
from ._plan import RunPlan, WorkItem
from ._planner import build_spec, epochs_of, log_path, select_samples
from ._recorded import config_from_spec, credentials_for, is_unrecorded, task_args_of
from ._run import execute
from ._run_models import building_with, close_models, eval_scope, run_model, run_roles
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
    """Finish the runs recorded in ``logs``; options (as for ``eval()``) override the logs'.

    ``model`` may be a ``Model`` from ``get_model()``: the way to give back model args
    a log could not hold (a callable ``custom_outputs``). The returned logs read
    their samples from the file when used.
    """
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
    if until_complete:
        logs_given = [read_eval_log_header(_path_of(ref)) for ref in refs]
        return await retry_until_complete(logs_given, attempts=None, backoff=backoff,
                                          overrides=overrides, models=[model] * len(refs),
                                          right_after_run=False)
    results: list[EvalLog] = []
    for ref in refs:
        results.extend(await _retry_one(_path_of(ref), overrides, model=model))
    return results


async def retry_until_complete(
    logs: list[EvalLog],
    *,
    attempts: int | None,
    backoff: float,
    overrides: dict[str, Any],
    tasks: Sequence[Task] | None = None,
    models: Sequence[str | Model | None] | None = None,
    right_after_run: bool = True,
) -> list[EvalLog]:
    """Retry ``logs`` in rounds until each is complete: every sample completed or
    failed ``max_attempts`` times across its lineage. ``attempts`` bounds the rounds
    (None: no bound).

    A round runs every retryable sample and decides the status at its end (as
    ``continue_on_fail`` does, without recording it in the header), so one
    deterministic failure cannot stop it early. Only a provider abort (quota,
    auth: nothing more can run until it is fixed) makes the next round wait, for
    ``backoff`` seconds doubling per abort in a row, capped at ``BACKOFF_CAP``;
    sample errors never wait. ``right_after_run``: ``logs`` were just written by
    this process (``eval(retry_attempts=N)``), so their own abort makes the first
    round wait, and a run the user cancelled is not retried; otherwise the user
    named the logs and the first round starts at once.

    ``overrides`` are options over those in the logs; ``tasks``, when given, are
    the in-memory tasks of ``logs`` (same order), so tasks made without ``@task``
    can be retried in-process too; ``models`` likewise keeps the ``Model`` objects
    the logs ran with (their callables cannot be rebuilt from a log).
    """
    logs = list(logs)
    in_memory = dict(enumerate(tasks or []))
    given = {i: m for i, m in enumerate(models or []) if isinstance(m, Model)}
    pending = [i for i, log in enumerate(logs) if not _complete(log)]
    if right_after_run and any(log.status == "cancelled" for log in logs):
        return logs  # the user stopped the eval (Ctrl-C): do not start it again
    aborted = right_after_run and any(_aborted_by_provider(logs[i]) for i in pending)
    rounds = aborts_in_a_row = 0
    while pending and (attempts is None or rounds < attempts):
        aborts_in_a_row = aborts_in_a_row + 1 if aborted else 0
        if aborted:
            wait = min(backoff * 2 ** (aborts_in_a_row - 1), BACKOFF_CAP)
            print(f"the provider stopped the last run; retrying {len(pending)} eval(s) in "
                  f"{wait:g}s", file=sys.stderr)
            if await _sleep_unless_interrupted(wait):
                _print_resume([logs[i] for i in pending])
                raise RetryInterrupted
        rounds += 1
        unfinished = []
        for i in pending:
            # A signal that came as the last run ended stopped nothing, but was a request
            # to stop all the same: start no more work (``Cancelled`` names the newest logs).
            raise_if_stop_requested()
            # A log the user names must be retryable (exit 2 if not), as without rounds.
            strict = rounds == 1 and not right_after_run
            retried = await _retry_round(logs[i], overrides, in_memory.get(i), given.get(i),
                                         strict)
            if retried is None:
                continue  # nothing retryable is left
            logs[i] = retried
            if retried.status == "cancelled":
                return logs  # the user stopped it (Ctrl-C); the resume command was printed
            if not _complete(retried):
                unfinished.append(i)
        pending = unfinished
        aborted = any(_aborted_by_provider(logs[i]) for i in pending)
    return logs


async def _retry_round(log: EvalLog, overrides: dict[str, Any], task: Task | None,
                       model: Model | None, strict: bool) -> EvalLog | None:
    """One round for ``log``: its new log, or None when nothing is left to run.
    A ``RetryError`` is raised if ``strict``, else warned about."""
    try:
        retried = await _retry_one(Path(str(log.location)), overrides, task=task, model=model,
                                   whole_round=True)
    except RetryError as exc:
        if strict:
            raise
        print(f"warning: not retrying {log.eval.task}: {exc}", file=sys.stderr)
        return None
    if not retried:
        print(f"{log.eval.task}: nothing left to retry (every sample completed or failed "
              "--max-attempts times)", file=sys.stderr)
        return None
    return retried[0]


def _complete(log: EvalLog) -> bool:
    """Every sample of ``log`` completed (limit hits included): nothing to retry."""
    results = log.results
    return (log.status == "success" and results is not None
            and results.completed_samples == results.total_samples)


def _aborted_by_provider(log: EvalLog) -> bool:
    """The run stopped on a fatal provider error (quota, auth): only that makes the
    next round wait. Its eval-level error is the model's; a threshold's has no phase."""
    return log.error is not None and log.error.phase == "model"


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
    path: Path, overrides: dict[str, Any], task: Task | None = None,
    model: Model | None = None, whole_round: bool = False,
) -> list[EvalLog]:
    """Retry the run in ``path``. ``whole_round`` (a round of ``retry_until_complete``):
    run only if something is left, and run every sample before deciding the status."""
    spec = read_eval_log_header(path).eval
    note_log(spec.task_id, path)  # what a Ctrl-C from here on says to resume
    config = retry_config(spec, path, overrides, model)
    # Locked before reading the lineage, so no other run adds to it between planning and
    # running: two retries of one log would otherwise both run every missing sample.
    lineages = [(path.parent, spec.task_id, spec.task),
                (Path(config.log_dir or path.parent), spec.task_id, spec.task)]
    async with eval_scope():
        return await _retry_locked(path, spec, config, lineages, task, model, whole_round)


async def _retry_locked(path: Path, spec: EvalSpec, config: EvalConfig,
                        lineages: list[tuple[Path, str, str]], task: Task | None,
                        model: Model | None, whole_round: bool) -> list[EvalLog]:
    """``_retry_one`` under its lineage locks: make the models, rebuild, plan, run."""
    with hold_lineages(lineages):
        # Made before the task is rebuilt, which may call get_model() (as for eval()).
        made = run_model(model or str(config.model), config)
        roles = run_roles(config, [model or str(config.model)], [made])
        try:
            if task is None:
                with building_with(made, roles):
                    task = rebuild_task(spec, config.task_args, shlex.quote(str(path)))
            plan = plan_retry(path, spec, task, config)
            plan.model = made
            if not whole_round:
                return await execute([plan], config, roles=roles)
            if not (plan.work or plan.then):
                return []
            # Only the run decides at the end: the header (built above) keeps the user's value.
            return await execute([plan], config.model_copy(update={"continue_on_fail": True}),
                                 roles=roles)
        finally:
            await close_models([made, *roles.values()])  # the runner closes them too, if it ran


def rebuild_task(spec: EvalSpec, task_args: dict[str, Any] | None = None, log: str = "LOG",
                 ) -> Task:
    """Import the task file recorded in ``spec`` and call the task with its args (a
    credential the log masked taken from ``task_args``)."""
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
    args = task_args_of(spec, task_args or {}, log)
    problems = []
    for candidate in existing:
        try:
            [(_, function)] = find_task(candidate, name)
        except TaskNotFoundError as exc:
            problems.append(str(exc))
            continue
        try:
            return function(**args)
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
                   carried=carried, source=path)


def decide(
    samples: Sequence[Sample], epochs: int, lineage: Lineage, max_attempts: int
) -> tuple[CarriedSamples, list[WorkItem], list[WorkItem]]:
    """Split samples x epochs into carried-over lines, never-run items and items to run
    again. The hot path of a retry: one dict lookup per sample and epoch."""
    carried = CarriedSamples()
    carry = carried.add
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
                carry(past)
            elif past.status == "error":
                prior = past.prior_attempts()  # decodes the line: errors are rare
                if len(prior.errors) >= max_attempts:  # failures, not cancelled attempts
                    carry(past)  # failed max_attempts times: stays errored
                    carried.errored += 1
                else:
                    again.append(WorkItem(sample, epoch, prior))
            else:  # cancelled mid-run: it did not fail, so it goes with the unrun ones
                fresh.append(WorkItem(sample, epoch, past.prior_attempts()))
    matched = carried.count + len(again) + changed + sum(1 for item in fresh if item.prior)
    _warn_about_changes(changed, dropped=len(known) - matched)
    return carried, fresh, again


def _warn_about_changes(changed: int, dropped: int) -> None:
    if changed:
        print(f"warning: {changed} samples' input changed since they ran; they run again",
              file=sys.stderr)
    if dropped > 0:
        print(f"warning: {dropped} samples in the earlier logs are no longer in the dataset "
              "(or the selection); they are dropped from the new log", file=sys.stderr)
