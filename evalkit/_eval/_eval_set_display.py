"""What the terminal shows of an eval set: the grid before it runs, one results
table over every member at the end, and the command that finishes the set.

While members run, the eval display shows a live bar per running member.
``none`` shows only the final table (as ``eval()`` shows only its results).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._util._invocation import evalkit_command
from ..scorer._metrics import format_metric
from ._display import in_notebook
from ._eval_set_plan import MemberStatus

if TYPE_CHECKING:
    from ..log import EvalLog
    from ._eval_set import EvalSetOutcome

PLAN_COLUMNS = ("member", "state", "done", "errors", "plan")
RESULT_COLUMNS = ("task", "model", "status", "done", "errors", "metrics")


class SetDisplay:
    """Grid, notes and summary of one ``eval_set()`` call."""

    def __init__(self, mode: str, command: str | None) -> None:
        self.mode = mode
        self.command = command

    def plan(self, statuses: Sequence[MemberStatus]) -> None:
        """A row per member: where it stands and what this run will do with it."""
        if self.mode == "none":
            return
        rows = [_plan_row(status) for status in statuses]
        todo = sum(1 for status in statuses if status.state != "complete")
        print(f"eval set: {len(statuses)} members, {len(statuses) - todo} complete, "
              f"{todo} to run", file=sys.stderr)
        print(table(PLAN_COLUMNS, rows), file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        print(f"eval set: {message}", file=sys.stderr, flush=True)

    def summary(self, outcome: EvalSetOutcome) -> None:
        """One table over every member; if the set is not done, how to finish it."""
        rows = []
        for status in outcome.statuses:
            key = status.member.key
            log = outcome.logs.get(key)
            locked = key in outcome.locked
            rows.append(_result_row(status, log, locked))
        print(table(RESULT_COLUMNS, rows), file=sys.stdout, flush=True)
        if not outcome.success:
            print(f"the set is not complete; finish it with: {self.finish_command()}",
                  file=sys.stderr, flush=True)

    def finish_command(self) -> str:
        if self.command:
            # Recorded as `evalkit ...`; printed as what runs here (`python -m evalkit ...`).
            program, _, rest = self.command.partition(" ")
            return f"{evalkit_command()} {rest}" if program == "evalkit" else self.command
        if in_notebook():
            return "eval_set(...) again with the same arguments"
        return "the same eval_set(...) call (it resumes where this one stopped)"


def _plan_row(status: MemberStatus) -> tuple[str, ...]:
    lineage = status.lineage
    if lineage is None:
        return (status.member.label, "missing", "-", "-", "start")
    footer = lineage.latest.footer
    done = errors = "?"
    if footer is not None:
        results = footer.results
        done = f"{results.completed_samples}/{results.total_samples}"
        errors = str(results.errored_samples)
    state = footer.status if footer is not None else "started"
    action = "skip" if status.state == "complete" else "resume"
    return (status.member.label, state, done, errors, action)


def _result_row(status: MemberStatus, log: EvalLog | None, locked: bool) -> tuple[str, ...]:
    member = status.member
    name = member.label.split(" x ")[0]
    if log is None:
        return (name, str(member.config.model), "locked" if locked else "not run", "-", "-",
                "")
    results = log.results
    if results is None:
        return (name, log.eval.model, "locked" if locked else log.status, "?", "?", "")
    metrics = ", ".join(f"{score.name}/{metric}={format_metric(value.value)}"
                        for score in results.scores for metric, value in score.metrics.items())
    status_text = "locked" if locked else log.status
    return (name, log.eval.model, status_text,
            f"{results.completed_samples}/{results.total_samples}",
            str(results.errored_samples), metrics)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Aligned plain-text columns: readable in a terminal, a CI log or a notebook."""
    cells = [tuple(header), *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in
                               zip(row, widths, strict=True)).rstrip() for row in cells)
