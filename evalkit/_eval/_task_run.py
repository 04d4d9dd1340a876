"""Running one task: schedule samples, write each as it finishes, end cleanly.

A run ends in one of four ways, each leaving a complete, retryable log:
every sample finished; the ``fail_on_error`` threshold was passed; a fatal
model error (quota, auth) aborted it; or the user cancelled it. In the last
three, samples still in flight are recorded as cancelled. A fifth, the log
cannot be written (a full disk), stops it too and leaves every whole record
already written; see ``_unwritable``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

import anyio
from pydantic_core import PydanticSerializationError

from .._policy import ErrorPolicy
from .._task import Task
from .._util._ids import utc_now
from .._util._signals import note_log
from ..errors import ModelFatalError
from ..log import EvalError, EvalFooter, EvalLog, EvalSample, EvalStats, LogWriter
from ..log._lazy import LazySamples
from ..model._pricing import total_cost
from ..scorer import Score, get_reducer
from ._config import EvalConfig
from ._executor import LocalSamples, TaskSamples
from ._plan import RunPlan, WorkItem
from ._progress import TaskProgress
from ._results import ResultsTally, Scoring, outcome_of_raw
from ._sample import SampleContext, unwritable_sample
from ._unwritable import UnwritableLog

StopReason = Literal["threshold", "fatal", "cancelled", "unwritable"]
_CARRY_BATCH = 2048
_CARRY_BATCH_BYTES = 1 << 18


class TaskRun:
    """One task's run, from header to footer."""

    def __init__(self, plan: RunPlan, context: SampleContext, config: EvalConfig,
                 samples: TaskSamples | None = None) -> None:
        self.plan = plan
        self.context = context
        self.config = config
        self.samples = samples or LocalSamples(context)
        """Where the samples run (the executor seam): this process unless told."""
        task = plan.task
        self.policy = ErrorPolicy(
            task.fail_on_error if config.fail_on_error is None else config.fail_on_error)
        self.continue_on_fail = (task.continue_on_fail if config.continue_on_fail is None
                                 else config.continue_on_fail)
        self.tally = ResultsTally(plan.total, plan.epochs, _scoring(task, config))
        self.progress = TaskProgress(plan.spec.task, context.model, plan.total, str(plan.path),
                                     self.tally, model_cost=config.model_cost)
        self.stop_reason: StopReason | None = None
        self.fatal: ModelFatalError | None = None
        self._in_flight: set[anyio.CancelScope] = set()
        self._started = utc_now()
        self.write_error: OSError | None = None
        self._new_samples = 0
        """Samples this run ran and saved (not carried over)."""

    def stop(self, reason: StopReason) -> None:
        """Stop scheduling and cancel the samples in flight (recorded as cancelled)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.progress.stop_reason = reason
        for scope in list(self._in_flight):
            scope.cancel()

    def abort(self, fatal: ModelFatalError) -> None:
        """Stop because of a fatal model error (here or in another task of the eval)."""
        self.fatal = self.fatal or fatal
        self.stop("fatal")

    async def run(self) -> EvalLog:
        # Now, not when the run was planned: with --max-tasks 1 (and a task per model)
        # the later runs wait for a slot, and that wait is not their run time.
        self._started = utc_now()
        self.progress.start()
        try:
            with LogWriter(self.plan.path) as writer:
                writer.write_header(self.plan.spec)
                note_log(self.plan.spec.task_id, self.plan.path)  # the one to resume from now
                self._carry_over(writer)
                if self.stop_reason is None:
                    await self._run_samples(writer)
                if self.write_error is None:
                    footer = self._footer()
                    writer.write_footer(footer)
        except OSError as exc:  # creating the file, its header, carried samples, footer
            self.write_error = self.write_error or exc
        self.progress.finish()
        if self.write_error is not None:
            return self._unwritable(self.write_error)
        return EvalLog(status=footer.status, eval=self.plan.spec, results=footer.results,
                       stats=footer.stats, error=footer.error, location=str(self.plan.path),
                       samples=LazySamples(self.plan.path))

    def _unwritable(self, exc: OSError) -> EvalLog:
        """The log could not be written: no footer; report what is safe, and where."""
        outcome = UnwritableLog(exc, self.plan.path, self.plan.source, self._new_samples)
        outcome.note(self.plan.spec.task_id)
        footer = self._footer()
        if outcome.removed:  # what is safe is what the retry carried from earlier logs
            safe = self.plan.carried.count - self.plan.carried.errored
        else:
            safe = footer.results.completed_samples if footer.results else 0
        location = outcome.resume_from
        return EvalLog(status="error", eval=self.plan.spec, results=footer.results,
                       stats=footer.stats, error=outcome.error(safe, self.plan.total),
                       location=str(location) if location else None,
                       samples=LazySamples(location) if location else None)

    def _carry_over(self, writer: LogWriter) -> None:
        """Copy the carried samples, streamed from their logs a batch at a time."""
        batch: list[bytes] = []
        size = 0
        for line in self.plan.carried.lines():
            batch.append(line)
            size += len(line)
            self._tally_raw(json.loads(line))
            if len(batch) == _CARRY_BATCH or size >= _CARRY_BATCH_BYTES:
                writer.write_sample_lines([b"\n".join(batch) + b"\n"])  # lines lack "\n"
                batch.clear()
                size = 0
        if batch:
            writer.write_sample_lines([b"\n".join(batch) + b"\n"])
        self.progress.carried = self.progress.done

    def _tally_raw(self, record: dict[str, Any]) -> None:
        from ..model import ModelUsage

        raw = record.get("scores") or {}
        values = {name: score.get("value") for name, score in raw.items()}
        usage = {name: ModelUsage.model_validate(used)
                 for name, used in (record.get("model_usage") or {}).items()}
        scores = ({name: Score.model_validate(score) for name, score in raw.items()}
                  if self.tally.keep_scores else None)
        self.tally.add_raw(outcome_of_raw(record), record["id"], values, usage, scores=scores,
                           metadata=record.get("metadata"))

    async def _run_samples(self, writer: LogWriter) -> None:
        await self._run_pool(self.plan.work, writer)
        if self.stop_reason is None and self.plan.then:
            await self._run_pool(self.plan.then, writer)

    async def _run_pool(self, items: Iterable[WorkItem], writer: LogWriter) -> None:
        """Run ``items`` on up to ``max_samples`` workers sharing one iterator."""
        pending = iter(items)
        wanted = self.config.max_samples or _default_max_samples(self.context)
        workers = min(self.samples.in_flight(wanted), max(self.plan.total, 1))
        async with anyio.create_task_group() as group:
            for _ in range(workers):
                group.start_soon(self._worker, pending, writer)

    async def _worker(self, pending: Any, writer: LogWriter) -> None:
        for item in pending:
            if self.stop_reason is not None:
                return
            record = await self._run_one(item)
            try:
                record = _write_sample(writer, record)
            except OSError as exc:  # a full disk: stop; the sample runs again on retry
                self.write_error = self.write_error or exc
                self.stop("unwritable")
                return
            self._new_samples += 1
            self._after(record)

    async def _run_one(self, item: WorkItem) -> EvalSample:
        record: EvalSample | None = None
        run = self.samples.sample(item)
        with anyio.CancelScope() as scope:
            self._in_flight.add(scope)
            try:
                record = await run.run()
            except ModelFatalError as exc:
                self.abort(exc)
            finally:
                self._in_flight.discard(scope)
        return record or run.cancelled()  # stopped mid-run: keep all it did

    def _after(self, record: EvalSample) -> None:
        if self.tally.add(record) != "error":
            return
        if not self.continue_on_fail and self.policy.exceeded(self.tally.errors, self.plan.total):
            self.stop("threshold")

    def _footer(self) -> EvalFooter:
        results = self.tally.results()
        error = self._eval_error()
        if self.stop_reason == "cancelled":
            status: Literal["success", "error", "cancelled"] = "cancelled"
        else:
            status = "error" if error is not None else "success"
        return EvalFooter(status=status, results=results, stats=self._stats(), error=error)

    def _eval_error(self) -> EvalError | None:
        if self.fatal is not None:
            return EvalError(message=f"{self.fatal} — the eval stopped; fix the cause, then "
                             "resume it with eval-retry", kind=self.fatal.kind, phase="model")
        errors, total = self.tally.errors, self.plan.total
        if self.stop_reason == "cancelled" or not self.policy.exceeded(errors, total):
            return None
        message = f"{errors} of {total} samples failed (threshold {self.policy.describe(total)})"
        cancelled = self.tally.counts["cancelled"]
        unrun = total - self.tally.finished - cancelled
        if self.stop_reason == "threshold" and unrun + cancelled > 0:
            stopped = [f"{cancelled} samples in flight were cancelled"] if cancelled else []
            stopped += [f"{unrun} samples did not run"] if unrun else []
            message += (f"; {' and '.join(stopped)} — to finish them anyway, retry with "
                        "--continue-on-fail or a higher --fail-on-error")
        return EvalError(message=message, kind="fail_on_error")

    def _stats(self) -> EvalStats:
        cost, pricing_source = total_cost(self.tally.usage, self.config.model_cost)
        return EvalStats(
            started_at=self._started.isoformat(), completed_at=utc_now().isoformat(),
            model_usage=self.tally.usage, cost=cost, pricing_source=pricing_source,
        )


def _write_sample(writer: LogWriter, record: EvalSample) -> EvalSample:
    try:
        writer.write_sample(record)  # serialized whole before any byte is written
    except PydanticSerializationError as exc:  # a value JSON cannot hold
        record = unwritable_sample(record, exc)
        writer.write_sample(record)
    return record


def _default_max_samples(context: SampleContext) -> int:
    """As many samples in flight as the model may have calls (default 10)."""
    return context.model.config.max_connections or 10


def _scoring(task: Task, config: EvalConfig) -> Scoring:
    """The task's scorers, metrics and reducers; ``--epochs-reducer`` replaces the latter
    (a retry passes the recorded names back: the task's own reducers then stay)."""
    reducers = task.epochs.reducers
    named = config.epochs_reducer
    if named is not None and named != task.epochs.reducer:
        reducers = [get_reducer(name) for name in named.split(",")]
    return Scoring(task.scorers, task.metrics, reducers)
