"""evalkit: evaluate language models without ever losing a finished sample.

    from evalkit import Task, task, eval
    from evalkit.dataset import Sample
    from evalkit.scorer import includes

    @task
    def hello():
        return Task(dataset=[Sample(input="Say hello", target="hello")], scorer=includes())

    eval(hello, model="mockllm/model")
"""

from ._eval import eval, eval_async
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
    "task",
]
