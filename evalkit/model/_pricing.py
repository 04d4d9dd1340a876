"""What model calls cost: a small built-in price table plus user overrides.

Prices are US dollars per million tokens. An unknown price gives a cost of
``None`` (never 0) so a total is never silently understated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import UsageError
from ._output import ModelUsage

PricingSource = Literal["builtin", "override", "unknown"]


@dataclass(frozen=True)
class Price:
    input: float
    output: float

    def cost(self, usage: ModelUsage) -> float:
        return (usage.input_tokens * self.input + usage.output_tokens * self.output) / 1e6


# Public list prices, per million tokens (input, output).
BUILTIN_PRICES: dict[str, Price] = {
    "mockllm/model": Price(0.0, 0.0),
    "openai/gpt-4o": Price(2.50, 10.00),
    "openai/gpt-4o-mini": Price(0.15, 0.60),
    "openai/gpt-4.1": Price(2.00, 8.00),
    "openai/gpt-4.1-mini": Price(0.40, 1.60),
    "openai/gpt-4.1-nano": Price(0.10, 0.40),
    "openai/o3": Price(2.00, 8.00),
    "openai/o4-mini": Price(1.10, 4.40),
    "openai/gpt-5": Price(1.25, 10.00),
    "openai/gpt-5-mini": Price(0.25, 2.00),
    "openai/gpt-5-nano": Price(0.05, 0.40),
    "anthropic/claude-3-5-haiku-latest": Price(0.80, 4.00),
    "anthropic/claude-3-7-sonnet-latest": Price(3.00, 15.00),
    "anthropic/claude-sonnet-4-0": Price(3.00, 15.00),
    "anthropic/claude-opus-4-0": Price(15.00, 75.00),
    "anthropic/claude-opus-4-1": Price(15.00, 75.00),
    "anthropic/claude-sonnet-4-5": Price(3.00, 15.00),
    "anthropic/claude-haiku-4-5": Price(1.00, 5.00),
}


def parse_cost_override(text: str) -> tuple[str, Price]:
    """Parse ``MODEL=IN:OUT`` (dollars per million tokens) from ``--model-cost``."""
    model, sep, prices = text.partition("=")
    input_price, sep2, output_price = prices.partition(":")
    try:
        if not (sep and sep2 and model):
            raise ValueError
        return model.strip(), Price(float(input_price), float(output_price))
    except ValueError:
        raise UsageError(
            f"bad --model-cost {text!r}: expected MODEL=INPUT:OUTPUT in dollars per million "
            "tokens, e.g. openai/gpt-4o=2.5:10"
        ) from None


def resolve_price(
    model: str, overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[Price | None, PricingSource]:
    """The price of ``model`` and where it came from."""
    if overrides and model in overrides:
        return Price(*overrides[model]), "override"
    if model in BUILTIN_PRICES:
        return BUILTIN_PRICES[model], "builtin"
    return None, "unknown"


def total_cost(
    usage: Mapping[str, ModelUsage], overrides: dict[str, tuple[float, float]] | None = None
) -> tuple[float | None, PricingSource | None]:
    """What ``usage`` (per model) cost, and where its prices came from.

    ``(None, None)`` for no usage; a cost of ``None`` if any model has no price.
    """
    if not usage:
        return None, None
    cost: float | None = 0.0
    sources: set[PricingSource] = set()
    for model, used in usage.items():
        price, source = resolve_price(model, overrides)
        sources.add(source)
        cost = None if price is None or cost is None else cost + price.cost(used)
    for source in ("unknown", "override"):
        if source in sources:
            return cost, source
    return cost, "builtin"
