"""``EvalConfig``: the one frozen object carrying eval options to the runner.

Every CLI flag maps to a field of the same name (``--max-messages`` to
``max_messages``); ``eval(**options)`` builds it from keyword arguments.
``None`` means "not given": the Task's own value, or the default, applies.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._policy import FailOnError, validate_fail_on_error
from ..errors import UsageError
from ..model import GenerateConfig

if TYPE_CHECKING:
    from .._task import Task

Display = Literal["rich", "plain", "none"]

# Options that change what a run computes; recorded in the log header and
# reused by a retry. The rest only affect how the run is shown or paced.
RESULT_OPTIONS = (
    "limit", "sample_id", "epochs", "epochs_reducer", "seed", "fail_on_error",
    "continue_on_fail", "retry_on_error", "max_messages", "token_limit", "time_limit",
    "max_retries", "timeout", "attempt_timeout", "max_connections", "max_samples",
    "model_cost", "model_roles",
)


class EvalConfig(BaseModel):
    """Options of an ``eval()`` or ``eval_retry()`` call (see ``evalkit eval --help``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str | None = None
    model_args: dict[str, Any] = Field(default_factory=dict)
    model_base_url: str | None = None
    model_cost: dict[str, tuple[float, float]] = Field(default_factory=dict)
    model_roles: dict[str, str] = Field(default_factory=dict)
    """Named models (``{"grader": "openai/gpt-4o-mini"}``) that ``get_model(role=...)``
    returns inside the eval's samples."""
    task_args: dict[str, Any] = Field(default_factory=dict)
    generate_config: GenerateConfig = GenerateConfig()
    limit: int | None = None
    sample_id: list[int | str] | None = None
    epochs: int | None = None
    epochs_reducer: str | None = None
    seed: int | None = None
    fail_on_error: FailOnError | None = None
    continue_on_fail: bool | None = None
    retry_on_error: int | None = None
    max_messages: int | None = None
    token_limit: int | None = None
    time_limit: float | None = None
    max_connections: int | None = None
    max_samples: int | None = None
    max_tasks: int | None = None
    max_retries: int | None = None
    timeout: float | None = None
    attempt_timeout: float | None = None
    log_dir: str | None = None
    executor: Literal["local", "ray"] = "local"
    """Where samples run: this process, or a Ray cluster (docs/cluster.md)."""
    ray_address: str | None = None
    """The Ray cluster to join (else ``$RAY_ADDRESS``, else a local one is started)."""
    display: Display = "rich"
    debug: bool = False
    retry_attempts: int = 0
    """``eval()`` only: retry a failed run in-process this many times."""
    retry_wait: float = 30.0
    max_attempts: int = 3
    """Retry only: a sample that failed this many times is not run again."""
    command: str | None = None

    @field_validator("fail_on_error", mode="before")
    @classmethod
    def _check_fail_on_error(cls, value: object) -> object:
        return None if value is None else validate_fail_on_error(value)

    @field_validator(
        "limit", "epochs", "max_connections", "max_samples", "max_tasks", "max_messages",
        "token_limit", "max_attempts",
    )
    @classmethod
    def _check_positive(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"must be at least 1, got {value}")
        return value

    @field_validator("log_dir", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        """``log_dir=Path(...)`` as well as a string (eval_set already takes both)."""
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    @field_validator("model_roles")
    @classmethod
    def _check_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for role, model in value.items():
            if not role or "/" not in model:
                raise ValueError(f"role {role!r} needs a model named provider/name, e.g. "
                                 "--model-role grader=openai/gpt-4o-mini")
        return value

    @field_validator("retry_on_error")
    @classmethod
    def _check_not_negative(cls, value: int | None) -> int | None:
        if value is not None and value < 0:
            raise ValueError(f"must be 0 or more, got {value}")
        return value

    @field_validator("time_limit", "timeout", "attempt_timeout")
    @classmethod
    def _check_seconds(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError(f"must be a positive number of seconds, got {value}")
        return value

    @classmethod
    def from_options(cls, **options: Any) -> EvalConfig:
        """Build from keyword options, with a clear error for unknown or bad ones."""
        if "message_limit" in options:  # Inspect's name for max_messages
            alias = options.pop("message_limit")
            if options.get("max_messages") is not None and alias is not None:
                raise UsageError("give max_messages or its alias message_limit, not both")
            options.setdefault("max_messages", alias)
        options = _gather_generate_options(options)
        unknown = sorted(set(options) - set(cls.model_fields))
        if unknown:
            known = ", ".join(sorted(cls.model_fields))
            raise UsageError(f"unknown option(s) {', '.join(unknown)}; options are: {known}")
        try:
            return cls(**options)
        except ValidationError as exc:
            raise UsageError(_describe(exc)) from None

    def merged(self, **overrides: Any) -> EvalConfig:
        """This config with every option in ``overrides`` that is not None replaced."""
        given = {key: value for key, value in overrides.items() if value is not None}
        return EvalConfig.from_options(**{**self.model_dump(), **given})

    def effective_generate_config(self) -> GenerateConfig:
        """Generate config with the connection and retry options folded in."""
        return self.generate_config.merge(GenerateConfig(
            max_connections=self.max_connections, max_retries=self.max_retries,
            timeout=self.timeout, attempt_timeout=self.attempt_timeout, seed=self.seed,
        ))

    def task_options(self, task: Task) -> dict[str, Any]:
        """The options a run of ``task`` applies: each one given here (by ``eval()`` or
        the CLI) wins over the Task's own value."""
        def pick(given: Any, own: Any) -> Any:
            return own if given is None else given

        limits = task.limits
        return {
            "epochs": pick(self.epochs, task.epochs.epochs),
            "epochs_reducer": pick(self.epochs_reducer, task.epochs.reducer),
            "fail_on_error": pick(self.fail_on_error, task.fail_on_error),
            "continue_on_fail": pick(self.continue_on_fail, task.continue_on_fail),
            "retry_on_error": pick(self.retry_on_error, task.retry_on_error),
            "max_messages": pick(self.max_messages, limits.messages),
            "token_limit": pick(self.token_limit, limits.tokens),
            "time_limit": pick(self.time_limit, limits.time),
        }

    def recorded(self, task: Task | None = None) -> dict[str, Any]:
        """The options that affect results, as written to the log header: with ``task``,
        the effective ones, whether ``eval()`` or the Task set them."""
        data = self.model_dump(mode="json", include=set(RESULT_OPTIONS))
        if task is not None:
            data.update(self.task_options(task))
        return {key: value for key, value in data.items() if value not in (None, {}, [])}


GENERATE_OPTIONS = tuple(name for name in GenerateConfig.model_fields
                         if name not in EvalConfig.model_fields)
"""``GenerateConfig`` fields ``eval()`` and the CLI take by name (``temperature=``,
``--temperature``); the rest (``seed``, ``max_connections``...) are eval options
folded into the generate config by ``effective_generate_config``."""


def _gather_generate_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with generate fields given by name moved into ``generate_config``,
    over the one given whole (``generate_config=GenerateConfig(...)``)."""
    given = {name: options.pop(name) for name in GENERATE_OPTIONS if name in options}
    given = {name: value for name, value in given.items() if value is not None}
    if not given:
        return options
    base = options.get("generate_config") or {}
    if isinstance(base, GenerateConfig):
        base = {name: value for name, value in base if value is not None}
    try:
        options["generate_config"] = GenerateConfig(**{**base, **given})
    except ValidationError as exc:
        raise UsageError(_describe(exc)) from None
    return options


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        name = ".".join(str(item) for item in error["loc"])
        flag = "--" + name.replace("_", "-")
        parts.append(f"bad value for {name} ({flag}): {error['msg']}")
    return "; ".join(parts)
