"""``Model``: a provider's API plus concurrency, retries, usage and events."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

import anyio

from .._transcript import ModelEvent, transcript, truncate_raw
from .._util._context import bound
from ..errors import ModelError
from ._api import ModelAPI
from ._config import GenerateConfig
from ._messages import ChatMessage, ChatMessageSystem, ChatMessageUser
from ._output import ModelOutput, ModelUsage
from ._retry import DEFAULT_MAX_RETRIES, RetryPolicy, call_with_retries
from ._tool_info import ToolChoice, ToolInfo
from ._usage import sample_usage


class Model:
    """A model named ``provider/name``, ready to generate.

    Calls are limited to ``max_connections`` at once; transient failures
    are retried per the config; every call is recorded as a model event in the
    running sample's transcript and its usage added to the sample and model.
    """

    def __init__(
        self,
        name: str,
        api: ModelAPI,
        config: GenerateConfig,
        *,
        args: dict[str, Any] | None = None,
        base_url: str | None = None,
    ) -> None:
        self.name = name
        self.api = api
        self.config = config
        self.args: dict[str, Any] = dict(args or {})
        """The model args it was made with (``get_model(name, **args)``), for the log."""
        self.base_url = base_url
        self.usage = ModelUsage()
        self.retries = 0
        self.last_retry: str | None = None
        """Why the latest retried call failed (e.g. ``HTTP 429``), for the live display."""
        self.calls = 0
        self._limiter: anyio.Semaphore | None = None
        self._merged: tuple[GenerateConfig, GenerateConfig, GenerateConfig] | None = None
        """(task config, model config, the two merged): the last merge, reused while
        both are the same objects (configs are frozen)."""

    def __repr__(self) -> str:
        return f"Model({self.name!r})"

    @property
    def limiter(self) -> anyio.Semaphore:
        """Bounds this model's calls in flight to its ``max_connections``."""
        if self._limiter is None:
            slots = self.config.max_connections or self.api.max_connections()
            # fast_acquire: a free slot is taken without yielding to the event
            # loop, which under load would delay the call by a loop iteration.
            self._limiter = anyio.Semaphore(slots, max_value=slots, fast_acquire=True)
        return self._limiter

    async def generate(
        self,
        input: str | Sequence[ChatMessage],
        tools: Sequence[ToolInfo] = (),
        tool_choice: ToolChoice | None = None,
        config: GenerateConfig | None = None,
    ) -> ModelOutput:
        """Generate a reply to ``input`` (a prompt or a list of messages)."""
        messages: list[ChatMessage] = (
            [ChatMessageUser(content=input)] if isinstance(input, str) else list(input)
        )
        effective = self._base_config()
        effective = effective if config is None else effective.merge(config)
        if effective.system_message is not None:
            messages.insert(0, ChatMessageSystem(content=effective.system_message))
        event = ModelEvent(model=self.name, input_messages=len(messages))
        policy = RetryPolicy(
            max_retries=DEFAULT_MAX_RETRIES
            if effective.max_retries is None
            else effective.max_retries,
            timeout=effective.timeout,
            attempt_timeout=effective.attempt_timeout,
        )

        def on_retry(reason: str) -> None:
            self.retries += 1
            self.last_retry = reason
            event.retries.append(reason)

        async def attempt() -> ModelOutput:
            return await self.api.generate(messages, list(tools), tool_choice, effective)

        started = time.perf_counter()
        try:
            output = await call_with_retries(attempt, policy, on_retry, slot=self.limiter)
        except ModelError as exc:
            event.error = str(exc)
            event.latency = time.perf_counter() - started
            transcript().add(event)
            raise
        self._record(output, event, time.perf_counter() - started)
        return output

    def _base_config(self) -> GenerateConfig:
        """The model's config over the running task's (which applies to the evaluated
        model only, not to a grader it calls)."""
        task_config = _task_config.get()
        if task_config is None or _active.get() is not self:
            return self.config
        # Merged once per task, not per call: a merge copies the whole config (~5 us
        # of every mock sample's ~200).
        last = self._merged
        if last is not None and last[0] is task_config and last[1] is self.config:
            return last[2]
        merged = task_config.merge(self.config)
        self._merged = (task_config, self.config, merged)
        return merged

    def _record(self, output: ModelOutput, event: ModelEvent, latency: float) -> None:
        self.calls += 1
        event.latency = latency
        event.output = output.completion
        if output.raw is not None:
            event.raw, event.truncated = truncate_raw(output.raw)
        if output.usage is not None:
            event.usage = output.usage.model_dump(exclude_none=True)
            self.usage = self.usage + output.usage
            current = sample_usage()
            if current is not None:
                current.add(self.name, output.usage)
        transcript().add(event)

    async def aclose(self) -> None:
        await self.api.aclose()


_active: ContextVar[Model | None] = ContextVar("evalkit_active_model", default=None)


def active_model() -> Model | None:
    """The model the running sample is evaluated with (None outside a sample)."""
    return _active.get()


def bind_active_model(model: Model) -> AbstractContextManager[Model]:
    """Make ``model`` the evaluated model for the code run inside the ``with`` block."""
    return bound(_active, model)


_task_config: ContextVar[GenerateConfig | None] = ContextVar("evalkit_task_config",
                                                            default=None)


def bind_task_config(config: GenerateConfig) -> AbstractContextManager[GenerateConfig]:
    """Make ``config`` the running task's generation options (under the model's own)."""
    return bound(_task_config, config)


_roles: ContextVar[Mapping[str, Model] | None] = ContextVar("evalkit_model_roles", default=None)


def model_for_role(role: str) -> Model | None:
    """The model bound to ``role`` (e.g. "grader") for this eval, if any."""
    roles = _roles.get()
    return None if roles is None else roles.get(role)


def bind_model_roles(roles: Mapping[str, Model]) -> AbstractContextManager[Mapping[str, Model]]:
    """Make ``roles`` the eval's named models for the code run inside the ``with`` block."""
    return bound(_roles, roles)
