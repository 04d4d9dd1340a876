"""Generation options sent with a model call, and how the call is retried."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class GenerateConfig(BaseModel):
    """Options for a model call. ``None`` means "the provider's default"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_seqs: list[str] | None = None
    seed: int | None = None
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
        return self.model_copy(update=other.model_dump(exclude_none=True))
