"""``samples_df()``: the samples of a log as a pandas DataFrame, one row each.

pandas is an optional extra (``pip install 'evalkit[pandas]'``), imported
only when this is called. Samples are streamed from the file, so a log is
never held in memory twice (records and frame).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..scorer._score import score_to_float
from ._reader import read_eval_log_samples
from ._records import EvalLog, EvalSample

LogSource = str | Path | EvalLog

COLUMNS = (
    "id", "epoch", "input", "target", "completion", "error", "error_phase", "error_kind",
    "limit", "cancelled", "attempts", "input_tokens", "output_tokens", "total_tokens",
    "total_time",
)
"""The fixed columns, in order; ``score_<scorer>`` columns follow."""


def samples_df(log: LogSource) -> Any:  # a pandas.DataFrame; pandas is optional
    """One row per sample (and epoch) of ``log``: an ``EvalLog`` or a log file path.

    Columns: ``id``, ``epoch``, ``input`` and ``target`` (as text),
    ``completion`` (the model's final answer), ``error`` / ``error_phase`` /
    ``error_kind`` (None when the sample succeeded), ``limit`` (the limit hit,
    e.g. ``"messages"``), ``cancelled``, ``attempts``, token counts summed
    over models, ``total_time`` in seconds, then ``score_<scorer>`` (the
    score's value as a number) for every scorer.
    """
    pandas = _import_pandas()
    rows = [sample_row(sample) for sample in _samples_of(log)]
    score_columns = sorted({key for row in rows for key in row} - set(COLUMNS))
    return pandas.DataFrame(rows, columns=[*COLUMNS, *score_columns])


def sample_row(sample: EvalSample) -> dict[str, Any]:
    """The DataFrame row of one sample (see :func:`samples_df` for the columns)."""
    usage = list(sample.model_usage.values())
    row: dict[str, Any] = {
        "id": sample.id,
        "epoch": sample.epoch,
        "input": _text(sample.input),
        "target": sample.target if isinstance(sample.target, str) else "\n".join(sample.target),
        "completion": sample.output.completion if sample.output is not None else None,
        "error": sample.error.message if sample.error else None,
        "error_phase": sample.error.phase if sample.error else None,
        "error_kind": sample.error.kind if sample.error else None,
        "limit": sample.limit.type if sample.limit else None,
        "cancelled": sample.cancelled,
        "attempts": sample.attempts,
        "input_tokens": sum(u.input_tokens for u in usage),
        "output_tokens": sum(u.output_tokens for u in usage),
        "total_tokens": sum(u.total_tokens for u in usage),
        "total_time": sample.total_time,
    }
    for name, score in (sample.scores or {}).items():
        row[f"score_{name}"] = _number(score.value)
    return row


def _samples_of(log: LogSource) -> Iterable[EvalSample]:
    if not isinstance(log, EvalLog):
        return read_eval_log_samples(log)
    if log.samples is not None:
        return log.samples
    if log.location is None:
        raise UsageError("this EvalLog holds no samples and no location; pass the path of "
                         "its log file, or read it with read_eval_log(path)")
    return read_eval_log_samples(log.location)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "\n".join(getattr(message, "content", str(message)) for message in value)


def _number(value: Any) -> Any:
    """Score values as numbers where they have one (C/I, yes/no, bools); else as given."""
    try:
        return score_to_float(value)
    except (TypeError, ValueError):
        return value


def _import_pandas() -> Any:
    try:
        # import_module: no pandas stubs are needed to type-check evalkit
        return importlib.import_module("pandas")
    except ImportError:
        raise UsageError("samples_df() needs pandas, which is not installed; install it with "
                         "pip install 'evalkit[pandas]' (or pip install pandas)") from None
