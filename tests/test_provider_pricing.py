"""Model prices: override, then built-in table, then unknown (never zero)."""

from __future__ import annotations

import pytest

from evalkit.errors import UsageError
from evalkit.model import ModelUsage
from evalkit.model._pricing import BUILTIN_PRICES, Price, parse_cost_override, resolve_price


def test_override_beats_builtin() -> None:
    """A --model-cost override wins over the built-in price."""
    price, source = resolve_price("openai/gpt-4o", {"openai/gpt-4o": (1.0, 2.0)})
    assert (price, source) == (Price(1.0, 2.0), "override")


def test_builtin_price() -> None:
    """A model in the table is priced from it."""
    assert resolve_price("openai/gpt-4o-mini") == (BUILTIN_PRICES["openai/gpt-4o-mini"], "builtin")


def test_unknown_model_has_no_price() -> None:
    """An unknown model's price is None (not 0), so totals are never silently understated."""
    assert resolve_price("openai/my-finetune", {"openai/other": (1.0, 1.0)}) == (None, "unknown")


def test_cost_is_per_million_tokens() -> None:
    """Cost is input and output tokens times their dollars-per-million prices."""
    usage = ModelUsage(input_tokens=2_000_000, output_tokens=500_000, total_tokens=2_500_000)
    assert Price(2.5, 10.0).cost(usage) == pytest.approx(10.0)


def test_parse_cost_override() -> None:
    """MODEL=IN:OUT parses into a model name and a price."""
    assert parse_cost_override("openai/gpt-4o=2.5:10") == ("openai/gpt-4o", Price(2.5, 10.0))


@pytest.mark.parametrize("text", ["openai/gpt-4o", "openai/gpt-4o=2.5", "=1:2", "m=a:b"])
def test_bad_cost_override_is_a_usage_error(text: str) -> None:
    """A malformed --model-cost says what the right form is."""
    with pytest.raises(UsageError, match="MODEL=INPUT:OUTPUT"):
        parse_cost_override(text)
