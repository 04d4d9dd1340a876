"""The exceptions evalkit raises.

Every error a user can hit derives from :class:`EvalkitError`, and each one's
message says what is wrong and how to fix it::

    EvalkitError
    ├── UsageError                  bad option, flag or argument value       (exit 2)
    │   ├── TaskNotFoundError       missing task file or name not in it
    │   ├── TaskLoadError           a task file that fails to import
    │   ├── UnknownProviderError    model name whose provider is not built in
    │   └── RetryError              a log that cannot be retried (no @task, moved file, ...)
    ├── LogError                    a file that is not a readable evalkit log (exit 2)
    │   ├── LogVersionError         a log written by another format version
    │   └── LogTruncatedError       empty, or cut before its header ended
    ├── DatasetError                a dataset that cannot be loaded or has changed
    ├── LineageLockedError          another process is writing this run's lineage (exit 2)
    ├── EvalInterrupted             interrupted twice: stopped without finishing (exit 130)
    ├── SampleError                 raised inside a sample; recorded, never fatal alone
    │   ├── ToolCallError           a tool raised while the model's call ran it
    │   └── LimitExceeded           a per-sample limit was reached (not an error)
    └── ModelError                  a model API call failed
        ├── ModelTransientError     retried: timeouts, 429 rate limit, 5xx, 529
        ├── ModelRequestError       a bad request: 400, 404, 413, 422 (sample error)
        └── ModelFatalError         aborts the whole eval (exit 3)
            ├── QuotaExhaustedError quota or credit exhausted: 402, insufficient_quota
            └── AuthError           401, 403

Warnings (``warnings.warn``), not errors: :class:`LogDamageWarning`, a log that
reads but lost samples to a damaged frame or carries stray bytes after its end.

Third-party exceptions are translated at the boundary where they occur
(``raise ModelTransientError(...) from exc``).
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "DatasetError",
    "EvalInterrupted",
    "EvalkitError",
    "LimitExceeded",
    "LineageLockedError",
    "LogDamageWarning",
    "LogError",
    "LogTruncatedError",
    "LogVersionError",
    "ModelError",
    "ModelFatalError",
    "ModelRequestError",
    "ModelTransientError",
    "QuotaExhaustedError",
    "RetryError",
    "SampleError",
    "TaskLoadError",
    "TaskNotFoundError",
    "ToolCallError",
    "UnknownProviderError",
    "UsageError",
]


class EvalkitError(Exception):
    """Root of every error evalkit raises on purpose."""


class UsageError(EvalkitError):
    """A bad option, flag or argument value."""


class TaskNotFoundError(UsageError):
    """A task file that does not exist, or a task name it does not define."""


class TaskLoadError(UsageError):
    """A task file that raised while being imported (a syntax error, a missing module)."""


class UnknownProviderError(UsageError):
    """A model name whose provider is not one evalkit knows."""


class RetryError(UsageError):
    """A log whose task cannot be rebuilt for a retry."""


class LogError(EvalkitError):
    """A file that is not a readable evalkit log."""


class LogVersionError(LogError):
    """A log written in a format version this evalkit does not read."""


class LogTruncatedError(LogError):
    """A log that is empty or was cut before its header was complete."""


class LogDamageWarning(UserWarning):
    """A log that still reads, minus what damage cost: a corrupt frame's samples
    (a retry runs them again), a corrupt footer, or stray bytes after its end."""


class DatasetError(EvalkitError):
    """A dataset that cannot be loaded, or that changed since a log was written."""


class LineageLockedError(EvalkitError):
    """Another process is writing a log of the same lineage (task_id and log directory).

    At most one eval or retry writes a lineage at a time, or both would run the
    same missing samples. ``pid``, ``host`` and ``started_at`` name the process
    in the way (None when it has not said yet).
    """

    def __init__(self, message: str, *, pid: int | None = None, host: str | None = None,
                 started_at: str | None = None) -> None:
        super().__init__(message)
        self.pid = pid
        self.host = host
        self.started_at = started_at


class EvalInterrupted(EvalkitError):
    """A second interrupt stopped the eval before it could finish its logs.

    The logs still read (status ``started``) and ``eval-retry`` resumes them.
    Raised instead of ``KeyboardInterrupt`` inside a notebook, where a
    ``KeyboardInterrupt`` escaping a task would stop the kernel's event loop.
    """


class SampleError(EvalkitError):
    """An error raised while one sample ran; recorded on the sample."""


class ToolCallError(SampleError):
    """A tool raised an exception the model was not meant to see."""


class LimitExceeded(SampleError):
    """A per-sample limit (messages, tokens, time) was reached.

    Not an error: the solver stops and the sample is scored as it stands.
    """

    def __init__(self, type: str, limit: float, value: float | None = None) -> None:
        super().__init__(f"{type} limit of {limit:g} reached")
        self.type = type
        self.limit = limit
        self.value = value


class ModelError(EvalkitError):
    """A model API call failed.

    ``kind`` names the class of failure as recorded in the log
    (``model_transient``, ``model_request``, ``quota_exhausted``, ``auth``).
    """

    kind = "model"

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ModelTransientError(ModelError):
    """A failure worth retrying: connection error, timeout, 408, 429, 5xx, 529."""

    kind = "model_transient"

    def __init__(
        self, message: str, *, status_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class ModelRequestError(ModelError):
    """The provider refused the request itself: 400, 404, 413, 422."""

    kind = "model_request"


class ModelFatalError(ModelError):
    """A failure that ends the whole eval; it is resumable once fixed."""

    kind = "model_fatal"


class QuotaExhaustedError(ModelFatalError):
    """Quota, credit or billing limit exhausted."""

    kind = "quota_exhausted"


class AuthError(ModelFatalError):
    """The provider refused the credentials (401, 403)."""

    kind = "auth"
