"""``evalkit log info``: one run in a dozen lines (``--json`` for everything)."""

from __future__ import annotations

from datetime import datetime

from ..log import EvalLog
from ..log._listing import LogSummary
from ..scorer._metrics import format_metric


def info_text(log: EvalLog, progress: LogSummary | None = None) -> str:
    """Task, model, status, counts, metrics, usage, cost, created and file of ``log``.

    ``progress``: how far a run with no footer (status ``started``) got.
    """
    spec = log.eval
    task = spec.task + (f" (retry of run {spec.retry_of})" if spec.retry_of else "")
    if spec.task_args:
        task += "  args: " + ", ".join(f"{k}={v!r}" for k, v in spec.task_args.items())
    model = spec.model + (f"  base URL {spec.model_base_url}" if spec.model_base_url else "")
    rows = [
        ("task", task), ("model", model),
        ("status", log.status + (f": {log.error.message}" if log.error else "")),
        ("created", _created(log)), ("samples", _counts(log, progress)),
    ]
    if log.results is not None and log.results.scores:
        rows.append(("metrics", ", ".join(
            f"{score.label}/{name}={format_metric(metric.value)}"
            for score in log.results.scores for name, metric in score.metrics.items())))
    if log.stats is not None and log.stats.model_usage:
        rows.append(("usage", "; ".join(
            f"{name}: {used.total_tokens:,} tokens ({used.input_tokens:,} in, "
            f"{used.output_tokens:,} out)" for name, used in log.stats.model_usage.items())))
        rows.append(("cost", _cost(log)))
    rows.append(("file", str(log.location)))
    return "\n".join(f"{label:<9} {value}" for label, value in rows)


def _created(log: EvalLog) -> str:
    created = log.eval.created[:19].replace("T", " ") + " UTC"
    stats = log.stats
    if stats is None or not (stats.started_at and stats.completed_at):
        return created
    seconds = (datetime.fromisoformat(stats.completed_at)
               - datetime.fromisoformat(stats.started_at)).total_seconds()
    return f"{created} (ran {seconds:.1f}s)"


def _counts(log: EvalLog, progress: LogSummary | None) -> str:
    r = log.results
    if r is None:
        if progress is None:
            return "?"
        return (f"{progress.done} of {progress.total} completed so far, {progress.errors} "
                "errored (no footer: still running, or interrupted)")
    parts = [f"{r.total_samples} total", f"{r.completed_samples} completed",
             f"{r.errored_samples} errored"]
    parts += [f"{count} {name}" for count, name in ((r.limited_samples, "limited"),
                                                    (r.cancelled_samples, "cancelled")) if count]
    return ", ".join(parts)


def _cost(log: EvalLog) -> str:
    stats = log.stats
    assert stats is not None
    if stats.cost is None:
        return "unknown (a model has no price; give one with --model-cost MODEL=IN:OUT)"
    return f"${stats.cost:.4f} ({stats.pricing_source} prices)"
