"""Running evals: planning, scheduling samples, error policy, retry, display."""

from ._config import EvalConfig
from ._eval import eval, eval_async

__all__ = ["EvalConfig", "eval", "eval_async"]
