"""evalkit: evaluate language models without ever losing a finished sample.

    from evalkit import Task, task, eval
    from evalkit.dataset import Sample
    from evalkit.scorer import includes

    @task
    def hello():
        return Task(dataset=[Sample(input="Say hello", target="hello")], scorer=includes())

    eval(hello, model="mockllm/model")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._eval import eval, eval_async
    from ._eval._eval_set import eval_set, eval_set_async
    from ._eval._retry import eval_retry, eval_retry_async
    from ._registry import task
    from ._task import Epochs, Task

__version__ = "0.1.0"

__all__ = [
    "Epochs",
    "Task",
    "__version__",
    "eval",
    "eval_async",
    "eval_retry",
    "eval_retry_async",
    "eval_set",
    "eval_set_async",
    "task",
]

# Imported on first use, so `evalkit log ls` and `import evalkit.log` never pay
# for loading the runner.
_LAZY = {
    "eval": "._eval", "eval_async": "._eval",
    "eval_retry": "._eval._retry", "eval_retry_async": "._eval._retry",
    "eval_set": "._eval._eval_set", "eval_set_async": "._eval._eval_set",
    "task": "._registry", "Epochs": "._task", "Task": "._task",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'evalkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
