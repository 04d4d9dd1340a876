"""Generation options sent with a model call, and how the call is retried.

Field names, types and meanings follow Inspect AI's ``GenerateConfig`` so a
task written for Inspect runs unchanged. Each provider sends the fields its
API supports and warns once about the others (see ``_providers._unsupported``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]


class ResponseSchema(BaseModel):
    """A JSON schema the model's reply must follow (structured output)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str
    """Letters, digits, ``_`` and ``-``; at most 64 characters (OpenAI's rule)."""
    json_schema: dict[str, Any]
    """The schema, a JSON Schema object."""
    description: str | None = None
    strict: bool | None = None
    """Ask for exact adherence to the schema (OpenAI)."""


class GenerateConfig(BaseModel):
    """Options for a model call. ``None`` means "the provider's default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    """Sample from the k most likely next tokens (Anthropic, vLLM and most hosts)."""
    stop_seqs: list[str] | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logprobs: bool | None = None
    """Return the log probabilities of the output tokens (OpenAI protocol)."""
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    """How many likely alternatives (0-20) to return at each token position."""
    num_choices: int | None = Field(default=None, ge=1)
    """How many completions to generate for the input (OpenAI protocol ``n``)."""
    reasoning_effort: ReasoningEffort | None = None
    """How hard a reasoning model thinks (OpenAI ``reasoning_effort``)."""
    reasoning_tokens: int | None = Field(default=None, ge=1)
    """Tokens a model may spend thinking (Anthropic extended thinking budget)."""
    system_message: str | None = None
    """A system message put before the conversation of every call."""
    response_schema: ResponseSchema | None = None
    """Ask for a reply that follows a JSON schema (validate it still)."""
    max_connections: int | None = None
    """Concurrent calls to this model (default 10)."""
    max_retries: int | None = None
    """Retries of a transient failure (default 10)."""
    timeout: float | None = None
    """Total seconds for one call, retries included."""
    attempt_timeout: float | None = None
    """Seconds for a single attempt, so a hung connection never stalls the run."""

    def merge(self, other: GenerateConfig) -> GenerateConfig:
        """This config with every value ``other`` sets taken from ``other``."""
        # Field values as they are (a ResponseSchema stays one; a dump would make it a dict).
        return self.model_copy(update={name: value for name, value in other if value is not None})
