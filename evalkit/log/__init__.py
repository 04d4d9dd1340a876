"""Log files: the record schema, writing as samples finish, and reading back."""

from .._transcript import Transcript, transcript
from ._dataframe import samples_df
from ._listing import default_log_dir, list_eval_logs
from ._reader import (
    iter_lines,
    iter_sample_lines,
    read_eval_log,
    read_eval_log_header,
    read_eval_log_samples,
)
from ._records import (
    LOG_VERSION,
    EvalDataset,
    EvalError,
    EvalFooter,
    EvalLimit,
    EvalLog,
    EvalMetric,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    EvalStats,
    EvalStatus,
)
from ._writer import LogWriter, log_file_name

__all__ = [
    "LOG_VERSION",
    "EvalDataset",
    "EvalError",
    "EvalFooter",
    "EvalLimit",
    "EvalLog",
    "EvalMetric",
    "EvalResults",
    "EvalSample",
    "EvalScore",
    "EvalSpec",
    "EvalStats",
    "EvalStatus",
    "LogWriter",
    "Transcript",
    "default_log_dir",
    "iter_lines",
    "iter_sample_lines",
    "list_eval_logs",
    "log_file_name",
    "read_eval_log",
    "read_eval_log_header",
    "read_eval_log_samples",
    "samples_df",
    "transcript",
]
