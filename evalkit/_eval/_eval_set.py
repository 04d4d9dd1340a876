"""``eval_set()``: a grid of tasks x models in one log directory, run until complete.

Idempotent: each member (task, task args, model, model args) is one lineage in
the directory. A run skips members already complete without writing anything,
resumes incomplete ones through their lineage (killed, cancelled, errored or
quota-aborted runs alike; only what is missing runs) and starts missing ones.
Then it retries itself in rounds, as ``eval-retry --until-complete`` does: a
round runs every retryable sample and decides each member's status at its end
by its fail_on_error rule; only a provider abort (quota, auth) makes the next
round wait.

Each member's lineage lock is taken before it is planned, so a member another
process is running is reported and left alone, never run twice. All members of
a round run in one ``execute`` call: ``max_tasks`` of them at once, sharing one
model (one connection pool) per model name.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._util._signals import raise_if_stop_requested
from ..errors import LineageLockedError, RetryError, UsageError
from ..log import EvalLog, read_eval_log_header
from ..log._lazy import LazySamples
from ..model import Model
from ._config import EvalConfig
from ._eval_set_display import SetDisplay
from ._eval_set_manifest import check_manifest
from ._eval_set_plan import Member, MemberStatus, member_of, member_statuses
from ._lock import hold_lineages
from ._models import Models, model_choices
from ._plan import RunPlan
from ._planner import plan_first_run
from ._resolve import Tasks
from ._retry import (
    BACKOFF_CAP,
    RetryInterrupted,
    _aborted_by_provider,
    _sleep_unless_interrupted,
    plan_retry,
)
from ._run import execute
from ._run_models import build_runs, eval_scope
from ._sync import run_sync

DEFAULT_RETRY_ATTEMPTS = 10
DEFAULT_RETRY_WAIT = 30.0
DEFAULT_MAX_TASKS = 4
"""Members run at once unless ``max_tasks`` says otherwise (``eval()`` runs 1)."""


@dataclass
class EvalSetOutcome:
    """Where every member stands after a run of the set."""

    statuses: list[MemberStatus]
    logs: dict[str, EvalLog] = field(default_factory=dict)
    """The latest log of each member that has one, by member key."""
    locked: dict[str, str] = field(default_factory=dict)
    """Members another process is running: member key -> why they were left alone."""
    ran: set[str] = field(default_factory=set)
    """Members this run wrote a log for."""

    def log_list(self) -> list[EvalLog]:
        return [self.logs[s.member.key] for s in self.statuses if s.member.key in self.logs]

    @property
    def success(self) -> bool:
        """Every member has a log, with status success, and none was locked."""
        return (not self.locked and len(self.logs) == len(self.statuses)
                and all(log.status == "success" for log in self.logs.values()))


def eval_set(
    tasks: Tasks, log_dir: str | Path, model: Models = None, *,
    task_args: dict[str, Any] | None = None, retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
    retry_wait: float = DEFAULT_RETRY_WAIT, allow_new_members: bool = False, **options: Any,
) -> tuple[bool, list[EvalLog]]:
    """Run every task with every model into ``log_dir`` until each is complete.

    Returns ``(success, logs)``: ``success`` when every member ended with status
    success; ``logs`` holds the latest log of each member. Run it again (same
    arguments) to finish a set that stopped: complete members are skipped,
    incomplete ones resumed. ``retry_attempts`` bounds the retry rounds after the
    first; ``retry_wait`` is the wait (doubling) after a provider abort. Other
    options are those of ``eval()``. Works inside a running event loop (Jupyter).
    """
    return run_sync(lambda: eval_set_async(
        tasks, log_dir, model, task_args=task_args, retry_attempts=retry_attempts,
        retry_wait=retry_wait, allow_new_members=allow_new_members, **options))


async def eval_set_async(
    tasks: Tasks, log_dir: str | Path, model: Models = None, *,
    task_args: dict[str, Any] | None = None, retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
    retry_wait: float = DEFAULT_RETRY_WAIT, allow_new_members: bool = False, **options: Any,
) -> tuple[bool, list[EvalLog]]:
    """``eval_set()`` for callers already in an async function."""
    outcome = await run_eval_set(tasks, log_dir, model, task_args=task_args,
                                 retry_attempts=retry_attempts, retry_wait=retry_wait,
                                 allow_new_members=allow_new_members, **options)
    return outcome.success, outcome.log_list()


async def run_eval_set(
    tasks: Tasks, log_dir: str | Path, model: Models = None, *,
    task_args: dict[str, Any] | None = None, retry_attempts: int = DEFAULT_RETRY_ATTEMPTS,
    retry_wait: float = DEFAULT_RETRY_WAIT, allow_new_members: bool = False, **options: Any,
) -> EvalSetOutcome:
    """``eval_set_async`` with the whole outcome (which members were locked...)."""
    if retry_attempts < 0:
        raise UsageError(f"--retry-attempts must be 0 or more, got {retry_attempts}")
    if retry_wait < 0:
        raise UsageError(f"--retry-wait must be a number of seconds >= 0, got {retry_wait:g}")
    if not str(log_dir):
        raise UsageError("an eval set needs its own log directory; pass --log-dir DIR")
    options.setdefault("max_tasks", DEFAULT_MAX_TASKS)
    config = EvalConfig.from_options(**{**options, "log_dir": str(log_dir),
                                        "task_args": task_args or {}})
    choices = model_choices(model, config.model)
    if not choices:
        raise UsageError("no model given; pass --model provider/name (e.g. --model "
                         "mockllm/model), several separated by commas")
    async with eval_scope():  # models a task or scorer names are shared in the set
        built = await build_runs(tasks, config, choices)
        try:
            members = [member_of(task, config, choice) for task, choice, _ in built.runs]
            _refuse_repeated(members)
            directory = Path(str(log_dir))
            check_manifest(directory, members, allow_new_members)
            display = SetDisplay(config.display, config.command)
            models = {member.key: model
                      for member, (_, _, model) in zip(members, built.runs, strict=True)}
            rounds = _Rounds(members, config, directory, display, models, built.roles)
            outcome = await rounds.run(retry_attempts, retry_wait)
        finally:
            await built.aclose()
        display.summary(outcome)
        return outcome


def _refuse_repeated(members: Sequence[Member]) -> None:
    seen: set[str] = set()
    for member in members:
        if member.key in seen:
            raise UsageError(f"{member.label} is given more than once; each task (with its "
                             "args) and model is one member of the set")
        seen.add(member.key)


class _Rounds:
    """The rounds of one run of a set: plan from the directory, lock, run, repeat."""

    def __init__(self, members: list[Member], config: EvalConfig, directory: Path,
                 display: SetDisplay, models: dict[str, Model], roles: dict[str, Model],
                 ) -> None:
        self.members = members
        self.models = models
        """Each member's model, by member key: the one its task was built with."""
        self.roles = roles
        # A round runs everything, then decides each status by its fail_on_error rule;
        # the headers keep the user's own continue_on_fail (see ``_retry_one``).
        self.run_config = config.model_copy(update={"continue_on_fail": True})
        self.directory = directory
        self.display = display
        self.outcome = EvalSetOutcome(member_statuses(members, directory))
        self.exhausted: set[str] = set()
        """Members with nothing retryable left (every sample completed or failed
        --max-attempts times): not planned again."""

    async def run(self, retry_attempts: int, retry_wait: float) -> EvalSetOutcome:
        self.display.plan(self.outcome.statuses)
        aborts_in_a_row = 0
        for _ in range(retry_attempts + 1):
            todo = self._todo()
            if not todo:
                break
            raise_if_stop_requested()  # a Ctrl-C too late to cancel the last round's run
            if aborts_in_a_row:
                await self._back_off(retry_wait, aborts_in_a_row, len(todo))
            logs = await self._round(todo)
            self.outcome.statuses = member_statuses(self.members, self.directory)
            if any(log.status == "cancelled" for log in logs):
                break  # the user stopped it (Ctrl-C): do not start it again
            aborted = any(_aborted_by_provider(log) for log in logs)
            aborts_in_a_row = aborts_in_a_row + 1 if aborted else 0
        self._collect_latest()
        return self.outcome

    def _todo(self) -> list[MemberStatus]:
        skip = self.exhausted | set(self.outcome.locked)
        return [status for status in self.outcome.statuses
                if status.state != "complete" and status.member.key not in skip]

    async def _back_off(self, retry_wait: float, aborts_in_a_row: int, pending: int) -> None:
        wait = min(retry_wait * 2 ** (aborts_in_a_row - 1), BACKOFF_CAP)
        self.display.note(f"the provider stopped the last round; retrying {pending} "
                          f"member(s) in {wait:g}s")
        if await _sleep_unless_interrupted(wait):
            self._collect_latest()
            self.display.summary(self.outcome)
            raise RetryInterrupted

    async def _round(self, todo: list[MemberStatus]) -> list[EvalLog]:
        """Lock each member's lineage, re-read where it stands, run what is left."""
        with ExitStack() as held:
            mine = [s.member for s in todo if self._lock(held, s.member, s.task_id)]
            plans: list[RunPlan] = []
            planned: list[Member] = []
            # Read again under the locks: another process may have finished or
            # started members since the first look.
            for status in member_statuses(mine, self.directory):
                if status.state == "complete" or not self._lock(held, status.member,
                                                                status.task_id):
                    continue
                plan = self._plan(status)
                if plan is not None:
                    plans.append(plan)
                    planned.append(status.member)
            if not plans:
                return []
            logs = await execute(plans, self.run_config, summary=False, roles=self.roles)
        by_file = {plan.path.name: member for plan, member in zip(plans, planned, strict=True)}
        for log in logs:
            member = by_file.get(Path(str(log.location)).name)
            if member is not None:
                self.outcome.logs[member.key] = log
                self.outcome.ran.add(member.key)
        return logs

    def _lock(self, held: ExitStack, member: Member, task_id: str) -> bool:
        """Hold ``task_id``'s lineage lock (re-entrant); False if another process has it."""
        try:
            held.enter_context(hold_lineages([(self.directory, task_id,
                                               member.task.display_name)]))
        except LineageLockedError as exc:
            self.outcome.locked[member.key] = str(exc)
            self.display.note(f"{member.label}: left alone: {exc}")
            return False
        return True

    def _plan(self, status: MemberStatus) -> RunPlan | None:
        member = status.member
        if status.lineage is None:
            plan = plan_first_run(member.task, member.config)
            # Its key as task_id: a second process starting it meets this lineage's lock.
            plan.spec = plan.spec.model_copy(update={"task_id": member.key})
        else:
            path = status.lineage.latest.path
            try:
                plan = plan_retry(path, read_eval_log_header(path).eval, member.task,
                                  member.config)
            except RetryError as exc:
                self.display.note(f"{member.label}: cannot resume {path.name}: {exc}")
                self.exhausted.add(member.key)
                return None
            if not (plan.work or plan.then):
                self.exhausted.add(member.key)  # every sample completed or out of attempts
                return None
        plan.model = self.models[member.key]
        return plan

    def _collect_latest(self) -> None:
        """The latest log of each member this run did not write (header and footer)."""
        for status in self.outcome.statuses:
            key = status.member.key
            if status.lineage is None:
                continue
            latest = status.lineage.latest.path
            known = self.outcome.logs.get(key)
            if known is None or Path(str(known.location)).name != latest.name:
                # Samples read from the file when first used, as eval()'s logs.
                self.outcome.logs[key] = read_eval_log_header(latest).model_copy(
                    update={"samples": LazySamples(latest)})
