"""Model prices and what a call cost (DESIGN §10).

Admins give a model its prices as ``{"input": …, "output": …, "currency": "USD"}``:
amounts per million prompt and completion tokens. A result's cost is computed once, when
it ends, from its usage and the prices its model had then, in that model's currency.
A model without prices, or a call whose usage is unknown, has no cost (null, not 0).
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import validation

PRICE_KEYS = ("input", "output", "currency")
MAX_PRICE = 1_000_000.0  # per million tokens: far above any model's


def clean_pricing(value: object) -> dict[str, Any]:
    """The model columns of a ``pricing`` field; null clears the prices."""
    if value is None:
        return {"input_price": None, "output_price": None, "price_currency": None}
    if not isinstance(value, dict):
        raise validation("pricing must be an object {input, output, currency}", field="pricing")
    unknown = sorted(set(value) - set(PRICE_KEYS))
    missing = [k for k in ("input", "output") if value.get(k) is None]
    if unknown or missing:
        raise validation(
            "pricing takes input and output (per million tokens) and currency",
            field="pricing",
            unknown=unknown,
            missing=missing,
        )
    prices = {}
    for key in ("input", "output"):
        amount = value[key]
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
            or not 0 <= amount <= MAX_PRICE
        ):
            raise validation(
                f"pricing.{key} must be a number from 0 to {MAX_PRICE:g}", field=f"pricing.{key}"
            )
        prices[key] = float(amount)
    currency = value.get("currency", "USD")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise validation(
            "pricing.currency must be a three-letter code such as USD", field="pricing.currency"
        )
    return {
        "input_price": prices["input"],
        "output_price": prices["output"],
        "price_currency": currency.upper(),
    }


def public_pricing(row: dict[str, Any]) -> dict[str, Any] | None:
    if row.get("input_price") is None or row.get("output_price") is None:
        return None
    return {
        "input": row["input_price"],
        "output": row["output_price"],
        "currency": row["price_currency"] or "USD",
    }


def cost_of(model: dict[str, Any], prompt_tokens: int | None, completion_tokens: int | None):
    """What a call of ``model`` (its row) with this usage cost; None without prices or
    without any usage."""
    if model.get("input_price") is None or model.get("output_price") is None:
        return None
    if prompt_tokens is None and completion_tokens is None:
        return None
    total = (prompt_tokens or 0) * model["input_price"] + (completion_tokens or 0) * model[
        "output_price"
    ]
    return round(total / 1_000_000, 12)
