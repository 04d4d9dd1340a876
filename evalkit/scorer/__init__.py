"""Scorers, metrics and epoch reducers."""

from ..dataset import Target
from ._answer import AnswerPattern, answer
from ._builtin import includes, match, pattern
from ._choice import choice
from ._classification import exact, f1
from ._grouped import grouped
from ._metric import Metric, MetricProtocol, metric, metric_name
from ._metrics import accuracy, bootstrap_stderr, mean, std, stderr, var
from ._model_graded import model_graded_fact, model_graded_qa
from ._reducer import (
    ScoreReducer,
    ScoreReducers,
    at_least,
    get_reducer,
    max_score,
    mean_score,
    median_score,
    min_score,
    mode_score,
    pass_at,
    score_reducer,
)
from ._score import (
    CORRECT,
    INCORRECT,
    NOANSWER,
    PARTIAL,
    SampleScore,
    Score,
    Value,
    ValueToFloat,
    value_to_float,
)
from ._scorer import Scorer, scorer, scorer_metadata, scorer_metrics, scorer_name

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOANSWER",
    "PARTIAL",
    "AnswerPattern",
    "Metric",
    "MetricProtocol",
    "SampleScore",
    "Score",
    "ScoreReducer",
    "ScoreReducers",
    "Scorer",
    "Target",
    "Value",
    "ValueToFloat",
    "accuracy",
    "answer",
    "at_least",
    "bootstrap_stderr",
    "choice",
    "exact",
    "f1",
    "get_reducer",
    "grouped",
    "includes",
    "match",
    "max_score",
    "mean",
    "mean_score",
    "median_score",
    "metric",
    "metric_name",
    "min_score",
    "mode_score",
    "model_graded_fact",
    "model_graded_qa",
    "pass_at",
    "pattern",
    "score_reducer",
    "scorer",
    "scorer_metadata",
    "scorer_metrics",
    "scorer_name",
    "std",
    "stderr",
    "value_to_float",
    "var",
]
