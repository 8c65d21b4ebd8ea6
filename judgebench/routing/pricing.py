"""Model prices for ordering a cascade and for cost accounting in evaluations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def model_price(model: str) -> float | None:
    """USD per 1M (input + output) tokens as the gateway knows it (registry, sim profile,
    litellm's map); None when unknown."""
    from judgebench.llm import get_gateway

    try:
        prices = get_gateway().prices(model)
    except Exception:  # noqa: BLE001 - an unknown model simply has no known price here
        return None
    if prices is None:
        return None
    return (prices[0] + prices[1]) * 1e6  # the gateway keeps USD per token


def order_by_price(models: Sequence[str], prices: Mapping[str, float] | None = None) -> list[str]:
    """Cheapest first; models without a known price keep their given order, after priced ones."""
    known = {m: (prices or {}).get(m, model_price(m)) for m in models}
    priced = sorted((m for m in models if known[m] is not None), key=lambda m: known[m])  # type: ignore[arg-type,return-value]
    return priced + [m for m in models if known[m] is None]
