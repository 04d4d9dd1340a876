"""The records of a log file, as pydantic models.

A log is a header (:class:`EvalSpec`), one :class:`EvalSample` per finished
sample, and a footer (:class:`EvalFooter`); :class:`EvalLog` joins them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidatorFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
)

from .._transcript import Event
from .._util._nan import INF_FROM_TEXT, INF_TO_TEXT
from ..model import ChatMessage, ModelOutput, ModelUsage
from ..scorer import Score
from ..scorer._metrics import format_metric
from ._lazy import LazySamples

LOG_VERSION = 1

EvalStatus = Literal["started", "success", "error", "cancelled"]
ErrorPhase = Literal["solver", "scorer", "model", "tool"]


class _Record(BaseModel):
    # Logs written by a newer evalkit may carry fields this one does not know.
    model_config = ConfigDict(extra="allow")


class EvalDataset(_Record):
    name: str | None = None
    location: str | None = None
    samples: int = 0
    sample_ids: list[int | str] = Field(default_factory=list)
    sha256: str | None = None
    shuffled: bool = False
    ids_generated: bool = False


class EvalSpec(_Record):
    """The header: what ran, with what, and how to rebuild it."""

    type: Literal["header"] = "header"
    version: int = LOG_VERSION
    task: str
    task_version: int | str = 0
    task_id: str
    run_id: str
    retry_of: str | None = None
    created: str
    task_file: str | None = None
    task_file_relative: str | None = None
    task_registry_name: str | None = None
    task_args: dict[str, Any] = Field(default_factory=dict)
    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    model_base_url: str | None = None
    generate_config: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    dataset: EvalDataset = Field(default_factory=EvalDataset)
    metadata: dict[str, Any] = Field(default_factory=dict)
    replay: dict[str, Any] = Field(default_factory=dict)


class EvalError(_Record):
    """An error of a sample (with its phase and kind) or of the whole eval."""

    message: str
    traceback: str | None = None
    phase: ErrorPhase | None = None
    kind: str | None = None


class EvalLimit(_Record):
    type: Literal["messages", "tokens", "time"]
    limit: int | float
    """The limit as given: a whole number of messages or tokens, seconds of time."""


class EvalSample(_Record):
    """One sample in one epoch, as it finished."""

    type: Literal["sample"] = "sample"
    id: int | str
    epoch: int = 1
    input: str | list[ChatMessage]
    target: str | list[str] = ""
    input_hash: str | None = None
    messages: list[ChatMessage] = Field(default_factory=list)
    output: ModelOutput | None = None
    scores: dict[str, Score] | None = None
    error: EvalError | None = None
    limit: EvalLimit | None = None
    cancelled: bool = False
    attempts: int = 1
    error_history: list[EvalError] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    model_usage: dict[str, ModelUsage] = Field(default_factory=dict)
    events: list[Event] = Field(default_factory=list)
    started_at: float | None = None
    total_time: float | None = None


class EvalMetric(_Record):
    name: str
    value: Annotated[float | None, INF_FROM_TEXT, INF_TO_TEXT] = None
    """None (null in the log): no value, e.g. no scored sample. ±inf as in ``Score``."""

    @model_serializer(mode="wrap")
    def _keep_null_value(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The writer drops None fields; "no value" must still be written, as null.
        data: dict[str, Any] = handler(self)
        data.setdefault("value", None)
        return data


class EvalScore(_Record):
    name: str
    """The scorer's name; for a dict-valued score, the key (``scorer`` names the scorer)."""
    scorer: str | None = None
    reducer: str | None = None
    """The epoch reducer, when several reduce the same scores (``Epochs(3, [...])``)."""
    scored_samples: int = 0
    unscored_samples: int = 0
    """Samples whose (reduced) score was NaN/None or not a number: left out of metrics."""
    metrics: dict[str, EvalMetric] = Field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    """The scorer's metadata (``@scorer(metrics, **metadata)``), when it has any."""

    @property
    def label(self) -> str:
        """The name shown next to the metrics: ``name``, with ``[reducer]`` when set."""
        return f"{self.name}[{self.reducer}]" if self.reducer else self.name


class EvalResults(_Record):
    """Outcome counts (samples x epochs) and metrics over the scored samples."""

    total_samples: int = 0
    completed_samples: int = 0
    errored_samples: int = 0
    limited_samples: int = 0
    cancelled_samples: int = 0
    scores: list[EvalScore] = Field(default_factory=list)


class EvalStats(_Record):
    started_at: str | None = None
    completed_at: str | None = None
    model_usage: dict[str, ModelUsage] = Field(default_factory=dict)
    cost: float | None = None
    pricing_source: Literal["builtin", "override", "unknown"] | None = None


class EvalFooter(_Record):
    type: Literal["footer"] = "footer"
    status: EvalStatus
    results: EvalResults = Field(default_factory=EvalResults)
    stats: EvalStats = Field(default_factory=EvalStats)
    error: EvalError | None = None


class EvalLog(BaseModel):
    """A whole log; ``samples`` is ``None`` when only header and footer were read."""

    status: EvalStatus
    eval: EvalSpec
    results: EvalResults | None = None
    stats: EvalStats | None = None
    error: EvalError | None = None
    samples: Sequence[EvalSample] | None = None
    """A list when read whole; in the logs ``eval()`` returns, read from the file on
    access (see ``LazySamples``)."""
    location: str | None = None

    @field_validator("samples", mode="wrap")
    @classmethod
    def _keep_lazy(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        # Validating would read (and hold) every sample of the file.
        return value if isinstance(value, LazySamples) else handler(value)

    @field_serializer("samples", mode="wrap")
    def _dump_samples(self, value: Any, handler: SerializerFunctionWrapHandler) -> Any:
        # Dumping a log asks for all of it: the samples are read then.
        return handler(list(value) if isinstance(value, LazySamples) else value)

    def __repr__(self) -> str:
        counts = ""
        if self.results is not None:
            r = self.results
            counts = (f", samples={r.completed_samples}/{r.total_samples}"
                      f", errors={r.errored_samples}")
            # The rarer outcomes only when they happened, to keep the repr one short line.
            if r.limited_samples:
                counts += f", limited={r.limited_samples}"
            if r.cancelled_samples:
                counts += f", cancelled={r.cancelled_samples}"
        metrics = "".join(
            f", {score.label}.{name}={format_metric(metric.value)}"
            for score in (self.results.scores if self.results else [])
            for name, metric in score.metrics.items()
        )
        return (f"EvalLog(task={self.eval.task!r}, model={self.eval.model!r}, "
                f"status={self.status!r}{counts}{metrics})")
