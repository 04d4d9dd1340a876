"""Scorers and metrics."""

from ..dataset import Target
from ._answer import AnswerPattern, answer
from ._builtin import includes, match, model_graded_qa, pattern
from ._choice import choice
from ._classification import exact, f1
from ._metrics import Metric, Reducer, accuracy, get_reducer, mean, metric_name, stderr
from ._score import CORRECT, INCORRECT, NOANSWER, PARTIAL, Score, Value, value_to_float
from ._scorer import Scorer, scorer, scorer_metrics, scorer_name

__all__ = [
    "CORRECT",
    "INCORRECT",
    "NOANSWER",
    "PARTIAL",
    "AnswerPattern",
    "Metric",
    "Reducer",
    "Score",
    "Scorer",
    "Target",
    "Value",
    "accuracy",
    "answer",
    "choice",
    "exact",
    "f1",
    "get_reducer",
    "includes",
    "match",
    "mean",
    "metric_name",
    "model_graded_qa",
    "pattern",
    "scorer",
    "scorer_metrics",
    "scorer_name",
    "stderr",
    "value_to_float",
]
