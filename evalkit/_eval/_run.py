"""Running planned task runs: models, concurrency across tasks, signals, display."""

from __future__ import annotations

import contextlib
import os
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import anyio

from .._util._signals import loop_scheduler, on_signal, signal_name
from ..errors import EvalInterrupted, UsageError
from ..log import EvalLog
from ..model import Model
from ..solver import SampleLimits
from ._config import EvalConfig
from ._display import Display, in_notebook, resume_command_for
from ._executor import make_executor
from ._lock import hold_lineages
from ._models import role_models
from ._plan import RunPlan
from ._run_models import named_model
from ._sample import SampleContext
from ._sync import stop_on_interrupt
from ._task_run import TaskRun

REFRESH_SECONDS = 0.25


async def execute(plans: Sequence[RunPlan], config: EvalConfig, summary: bool = True,
                  roles: dict[str, Model] | None = None) -> list[EvalLog]:
    """Run ``plans`` (one per task) and return their logs, in order. ``summary``:
    show the results table (an eval set shows its own, over all its members).
    ``roles``: the eval's role models when the caller made them (to build its tasks)."""
    for directory in {plan.path.parent for plan in plans}:
        _check_log_dir(directory)
    with hold_lineages((plan.path.parent, plan.spec.task_id, plan.spec.task) for plan in plans):
        return await _execute(plans, config, summary, roles)


async def _execute(plans: Sequence[RunPlan], config: EvalConfig, summary: bool,
                   given_roles: dict[str, Model] | None) -> list[EvalLog]:
    if config.seed is not None:
        random.seed(config.seed)
    models = _models_for(plans, config)
    executor = make_executor(config)
    roles = role_models(config, models) if given_roles is None else given_roles
    try:
        runs = []
        for plan in plans:
            context = _context(plan, plan.model or models[plan.spec.model], config, roles)
            runs.append(TaskRun(plan, context, config, await executor.for_task(plan, context)))
        return await _execute_runs(plans, runs, [*models.values(), *roles.values()], config,
                                   summary)
    finally:
        with anyio.CancelScope(shield=True):
            await executor.aclose()


async def _execute_runs(plans: Sequence[RunPlan], runs: list[TaskRun], models: list[Model],
                        config: EvalConfig, summary: bool) -> list[EvalLog]:
    display = Display(config.display)
    display.start()
    logs: list[EvalLog | None] = [None] * len(runs)
    abandoned = False

    def abandon() -> None:
        nonlocal abandoned
        abandoned = True
        group.cancel_scope.cancel()

    signals = _SignalResponse(runs, display, abandon)
    try:
        with on_signal(signals.first, signals.second):
            async with anyio.create_task_group() as group:
                group.start_soon(_refresh, display)
                # eval() waiting in another thread (a notebook) stops the runs like Ctrl-C
                with stop_on_interrupt(lambda: _cancel_runs(runs, display)):
                    await _run_tasks(runs, logs, config, display)
                group.cancel_scope.cancel()
    except Exception:
        # A crash (a bug): the finished samples are on disk, so say how to resume
        # before the traceback scrolls past.
        display.stop()
        _print_resume(runs, "the eval stopped on an unexpected error")
        raise
    finally:
        display.stop()
        with anyio.CancelScope(shield=True):
            every = [*models, *_given(plans)]
            for model in {id(m): m for m in every}.values():
                await model.aclose()
    if abandoned:
        raise EvalInterrupted("interrupted twice: the eval stopped without finishing its "
                              "logs; they still read, and eval_retry resumes them")
    finished = [log for log in logs if log is not None]
    if summary:
        display.summary(finished)
    return finished


def _check_log_dir(directory: Path) -> None:
    """Refuse an unusable log directory before any sample runs."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        writable = os.access(directory, os.W_OK)
    except OSError as exc:
        raise UsageError(f"cannot use log directory {str(directory)!r}: {exc.strerror}; pass "
                         "--log-dir (or set EVALKIT_LOG_DIR) to a writable directory") from exc
    if not writable:
        raise UsageError(f"log directory {str(directory)!r} is not writable; pass --log-dir "
                         "(or set EVALKIT_LOG_DIR) to a writable directory")


def _models_for(plans: Sequence[RunPlan], config: EvalConfig) -> dict[str, Model]:
    return {name: named_model(name, config)
            for name in {plan.spec.model for plan in plans if plan.model is None}}


def _given(plans: Sequence[RunPlan]) -> list[Model]:
    """``Model`` objects given to ``eval()`` (closing releases their connections; they
    stay usable)."""
    return [plan.model for plan in plans if plan.model is not None]


def _context(plan: RunPlan, model: Model, config: EvalConfig,
             roles: dict[str, Model]) -> SampleContext:
    task = plan.task
    limits = SampleLimits(
        config.max_messages or task.limits.messages,
        config.token_limit or task.limits.tokens,
        config.time_limit or task.limits.time,
    )
    retry_on_error = (task.retry_on_error if config.retry_on_error is None
                      else config.retry_on_error)
    return SampleContext(model, task.solver, task.scorers, limits, retry_on_error,
                         task_config=task.config, sandbox=task.sandbox, roles=roles)


async def _run_tasks(
    runs: list[TaskRun], logs: list[EvalLog | None], config: EvalConfig, display: Display
) -> None:
    limiter = anyio.CapacityLimiter(config.max_tasks or 1)

    async def run_one(index: int) -> None:
        async with limiter:
            run = runs[index]
            # Stopped before it started (the user, or another task's quota abort): it
            # still writes a log saying why, so the printed resume command runs it.
            for other in runs:
                if other.fatal is not None:
                    run.abort(other.fatal)
                elif other.stop_reason == "cancelled":
                    run.stop("cancelled")
            display.add(run.progress)
            logs[index] = await run.run()
            if run.fatal is not None:
                for other in runs:
                    other.abort(run.fatal)

    async with anyio.create_task_group() as group:
        for index in range(len(runs)):
            group.start_soon(run_one, index)


async def _refresh(display: Display) -> None:
    while True:
        display.refresh()
        await anyio.sleep(REFRESH_SECONDS)


class _SignalResponse:
    """First SIGINT/SIGTERM: finish the logs as cancelled. Second: exit at once (in a
    notebook: ``abandon`` the eval, so the cell ends and the kernel lives on)."""

    def __init__(self, runs: list[TaskRun], display: Display,
                 abandon: Callable[[], None]) -> None:
        self.runs = runs
        self.display = display
        self.abandon = abandon
        self.schedule = loop_scheduler()

    def first(self, signum: int) -> None:
        again = "interrupt again" if in_notebook() else "press Ctrl-C again"
        self.display.warn(f"{signal_name(signum)}: stopping; samples in flight are recorded "
                          f"as cancelled ({again} to stop at once)")
        for run in self.runs:
            run.stop("cancelled")

    def second(self, signum: int) -> None:
        """Called inside the signal handler: only signal-safe work here."""
        if in_notebook():
            # Not KeyboardInterrupt: escaping an asyncio task, it stops the loop, and in
            # a kernel that loop is the kernel's.
            self.schedule(self._abandon)
            return
        with contextlib.suppress(Exception):  # the display may be mid-write
            self.display.stop()
        lines = ["interrupted again: exiting now; the logs still read",
                 *(f"resume with: {resume_command_for(run.plan.path)}" for run in self.runs
                   if _has_data(run.plan.path))]
        os.write(2, ("\n".join(lines) + "\n").encode())  # unbuffered: safe in a handler
        os._exit(130)

    def _abandon(self) -> None:
        self.display.stop()
        _print_resume(self.runs, "interrupted again: stopping now; the logs still read")
        self.abandon()


def _cancel_runs(runs: list[TaskRun], display: Display) -> None:
    display.warn("interrupted: stopping; samples in flight are recorded as cancelled "
                 "(interrupt again to stop waiting)")
    for run in runs:
        run.stop("cancelled")


def _print_resume(runs: list[TaskRun], reason: str) -> None:
    print(reason, file=sys.stderr)
    for run in runs:
        if _has_data(run.plan.path):  # never started: nothing to resume
            print(f"resume with: {resume_command_for(run.plan.path)}", file=sys.stderr,
                  flush=True)


def _has_data(path: Path) -> bool:
    """A log worth resuming from exists there (not missing, not an empty file)."""
    try:
        return path.stat().st_size > 0
    except OSError:
        return False
