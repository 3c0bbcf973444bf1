"""What language-model calls cost, in US dollars: a price table and the arithmetic (pure).

Read by the metrics (`ragops_llm_cost_usd_total` and what a cached answer saves,
llm_metrics.py) and the traces (`ragops.llm.cost_usd`, traced.py); not beside the OpenAI
adapter, since Bedrock's models are priced here too and pricing needs no SDK.
"""

from __future__ import annotations

# USD per 1M tokens (input, output). NEEDS UPKEEP: copied from the providers' price
# pages (2025); prices change and new models appear. Unknown models cost None (not 0),
# so that a missing entry shows as missing rather than as free.
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
    "anthropic.claude-3-haiku-20240307-v1:0": (0.25, 1.25),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": (3.00, 15.00),
}


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollar cost of one call, or None for a model missing from the table.

    Matches the longest table key that prefixes `model`, so dated snapshots
    ("gpt-4o-mini-2024-07-18") and region-prefixed Bedrock ids ("us.anthropic…")
    find their family; "gpt-4o-mini" must not match "gpt-4o", hence longest first."""
    bare = model.split(".", 1)[1] if model[:3] in ("us.", "eu.") else model
    for key in sorted(PRICES_PER_MILLION, key=len, reverse=True):
        if bare.startswith(key):
            price_in, price_out = PRICES_PER_MILLION[key]
            return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000
    return None
