"""What the terminal shows: live progress, results, warnings, resume commands.

``rich``: a live bar per task (done/total, errors, retries and the last retry's
reason, samples/s, elapsed time, tokens and cost so far, ETA)
and a results table (in a Jupyter notebook the bars are one cell output
updated in place, no ipywidgets needed); ``plain``: a line per task every few seconds, for CI
logs; ``none``: only the results. Counters are read on a timer, never pushed
per sample, so the display costs the hot path nothing.
"""

from __future__ import annotations

import io
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .._util._invocation import evalkit_command
from ..log import EvalLog
from ..scorer._metrics import format_metric
from ._error_summary import error_lines
from ._progress import TaskProgress
from ._status import status_text

PLAIN_INTERVAL = 5.0
NOTEBOOK_WIDTH = 100


class Display:
    """Progress and results for one ``eval()`` call."""

    def __init__(self, mode: str, stream: TextIO | None = None) -> None:
        self.mode = mode
        self.stream = stream or sys.stderr
        self.tasks: list[TaskProgress] = []
        self._live: Any = None
        self._bars: dict[int, Any] = {}
        self._last_plain = 0.0
        self._notebook: NotebookView | None = None

    def start(self) -> None:
        if self.mode != "rich":
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        # rich's own Jupyter support needs ipywidgets (and warns without it), so
        # in a notebook the bars are rendered here and shown by NotebookView.
        notebook = in_notebook()
        console = (Console(file=io.StringIO(), record=True, width=NOTEBOOK_WIDTH,
                           force_jupyter=False, force_terminal=True)
                   if notebook else Console(file=self.stream))
        self._live = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            console=console, auto_refresh=False, transient=False,
        )
        if notebook:
            self._notebook = NotebookView()
        else:
            self._live.start()

    def add(self, progress: TaskProgress) -> None:
        self.tasks.append(progress)
        if self._live is not None:
            self._bars[id(progress)] = self._live.add_task(
                f"{progress.task} ({progress.model_name})", total=progress.total, status="")

    def refresh(self, force: bool = False) -> None:
        """Redraw from the counters (called a few times a second)."""
        if self._live is not None:
            for progress in self.tasks:
                self._live.update(self._bars[id(progress)], completed=progress.done,
                                  status=status_text(progress))
            if self._notebook is not None:
                self._notebook.show(self._live)
            else:
                self._live.refresh()
        elif self.mode == "plain":
            now = time.monotonic()
            if force or now - self._last_plain >= PLAIN_INTERVAL:
                self._last_plain = now
                for progress in self.tasks:
                    print(f"[{progress.task}] {progress.done}/{progress.total} "
                          f"{status_text(progress)}", file=self.stream, flush=True)

    def stop(self) -> None:
        self.refresh(force=True)
        if self._live is not None:
            if self._notebook is None:
                self._live.stop()
            self._live = None

    def warn(self, message: str) -> None:
        if self._live is not None:
            # Through rich, so the line lands above the live bars instead of inside them.
            self._live.console.print(f"warning: {message}", markup=False, highlight=False)
        else:
            print(f"warning: {message}", file=self.stream, flush=True)

    def summary(self, logs: Sequence[EvalLog]) -> None:
        """The results of every task, warnings for failed samples, resume commands."""
        # A rich table only on a terminal: piped to a file or a CI log it would be cut
        # to 80 columns, so the plain table (every value in full) goes there instead.
        if self.mode == "rich" and logs and sys.stdout.isatty():
            _print_rich_table(logs)
        else:
            print(results_text(logs), file=sys.stdout, flush=True)
        for log in logs:
            for line in outcome_notes(log, python=in_notebook(), errors=self.mode != "none"):
                print(line, file=self.stream, flush=True)


def _print_rich_table(logs: Sequence[EvalLog]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="results", title_justify="left")
    for column in ("task", "model", "status", "total", "done", "errors", "limited",
                   "cancelled", "metrics"):
        table.add_column(column, justify="right" if column in _COUNT_COLUMNS else "left")
    for row in _result_rows(logs):
        table.add_row(*row)
    Console(file=sys.stdout).print(table)


_COUNT_COLUMNS = {"total", "done", "errors", "limited", "cancelled"}


def _result_rows(logs: Sequence[EvalLog]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for log in logs:
        r = log.results
        metrics = ", ".join(
            f"{score.label}/{name}={format_metric(metric.value)}"
            for score in (r.scores if r else []) for name, metric in score.metrics.items())
        counts = ((r.total_samples, r.completed_samples, r.errored_samples, r.limited_samples,
                   r.cancelled_samples) if r else ("?",) * 5)
        rows.append((log.eval.task, log.eval.model, log.status, *map(str, counts), metrics))
    return rows


def results_text(logs: Sequence[EvalLog]) -> str:
    """A plain-text results table; readable in a terminal, a CI log or a notebook."""
    header = ("task", "model", "status", "total", "done", "errors", "limited", "cancelled",
              "metrics")
    rows = [header, *_result_rows(logs)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
                     .rstrip() for row in rows)


def outcome_notes(log: EvalLog, python: bool = False, errors: bool = False) -> list[str]:
    """Warnings about failed samples, the eval error and how to resume.

    ``python``: give the resume call as Python (``eval_retry(...)``), for notebooks.
    ``errors``: under the count of failed samples, the first error of each kind
    (read from the log file).
    """
    notes: list[str] = []
    r = log.results
    if r is not None and r.errored_samples:
        notes.append(f"warning: {r.errored_samples} of {r.total_samples} samples failed in "
                     f"{log.eval.task}; see `evalkit log samples {log.location} --errors`")
        if errors and log.location is not None:
            notes.extend(error_lines(log.location))
    if log.stats is not None and log.stats.pricing_source == "unknown":
        unpriced = [m for m in log.stats.model_usage if not _has_price(m)]
        notes.append(f"warning: cost unknown: no price for {', '.join(unpriced)}; give one "
                     f"with --model-cost {unpriced[0] if unpriced else 'MODEL'}=IN:OUT "
                     "(dollars per million tokens)")
    if log.error is not None:
        notes.append(f"error: {log.error.message}")
    if log.status != "success" and python and _defined_in_cell(log):
        notes.append(f"note: {log.eval.task} was defined in a notebook cell, which "
                     "eval_retry cannot import, so this run cannot be resumed; put the @task "
                     "in a .py file (e.g. with %%writefile task.py) and eval that file to make "
                     "its runs retryable")
    elif log.location is None:  # nothing was saved (a full disk): nothing to resume
        return notes
    elif log.status != "success":
        notes.append(f"resume with: eval_retry({str(log.location)!r})  "
                     f"(in a terminal: {resume_command(log)})" if python
                     else f"resume with: {resume_command(log)}")
    notes.append(f"log: {log.location}")
    return notes


def _has_price(model: str) -> bool:
    from ..model._pricing import BUILTIN_PRICES

    return model in BUILTIN_PRICES


def _defined_in_cell(log: EvalLog) -> bool:
    """A task whose recorded source file does not exist: a notebook cell's code."""
    source = log.eval.task_file
    return source is not None and not Path(source).is_file()


def resume_command(log: EvalLog) -> str:
    """The exact command that finishes ``log`` (quoted for a POSIX shell)."""
    return resume_command_for(str(log.location))


def resume_command_for(path: str | Path) -> str:
    """The exact command that finishes the log at ``path`` (quoted for a POSIX shell), in
    the form that runs here (``python -m evalkit`` if that is how evalkit was started)."""
    return f"{evalkit_command()} eval-retry {shlex.quote(str(path))}"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where output is a cell, not a terminal)."""
    if "IPython" not in sys.modules:
        return False  # no kernel imports IPython lazily: it is loaded before any cell runs
    from IPython import get_ipython

    return type(get_ipython()).__name__ == "ZMQInteractiveShell"


class NotebookView:
    """Progress bars as one notebook output, replaced in place on every refresh."""

    def __init__(self) -> None:
        from IPython.display import display

        # IPython's display() is untyped; it returns a DisplayHandle with display_id=True.
        self._handle = display(  # type: ignore[no-untyped-call]  # see above
            {"text/plain": ""}, raw=True, display_id=True)

    def show(self, progress: Any) -> None:
        """Render ``progress`` (a rich ``Progress`` on a recording console) into the cell."""
        console = progress.console
        console.print(progress.get_renderable())
        text = console.export_text(clear=False)
        html = console.export_html(inline_styles=True, code_format=_NOTEBOOK_HTML)
        if self._handle is not None:
            self._handle.update({"text/plain": text, "text/html": html}, raw=True)


_NOTEBOOK_HTML = '<pre style="font-family:monospace;line-height:1.3">{code}</pre>'
