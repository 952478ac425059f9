"""Generation parameters: a model's defaults and a window's overrides share one rule set."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import validation


@dataclass(frozen=True)
class Range:
    kind: type
    low: float
    high: float
    low_open: bool = False

    def check(self, name: str, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise validation(f"{name} must be a number", field=name)
        if isinstance(value, float) and not math.isfinite(value):
            # NaN compares false with every bound: it would pass the range check below.
            raise validation(f"{name} must be a finite number", field=name)
        if self.kind is int and (not isinstance(value, int) and not float(value).is_integer()):
            raise validation(f"{name} must be a whole number", field=name)
        below = value <= self.low if self.low_open else value < self.low
        if below or value > self.high:
            bracket = "(" if self.low_open else "["
            raise validation(
                f"{name} must be in {bracket}{self.low:g}, {self.high:g}]", field=name
            )
        return int(value) if self.kind is int else float(value)


PARAMS: dict[str, Range] = {
    "temperature": Range(float, 0, 2),
    "top_p": Range(float, 0, 1, low_open=True),
    "max_tokens": Range(int, 1, 1_000_000),
    "timeout_ms": Range(int, 1_000, 600_000),
}

# Sent upstream; timeout_ms is ChatMore's own limit.
UPSTREAM_PARAMS = ("temperature", "top_p", "max_tokens")
DEFAULT_TIMEOUT_MS = 120_000


def clean_params(value: object, field: str) -> dict[str, int | float]:
    """Validate a params object: known keys, numbers in range; null means {}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise validation(f"{field} must be an object", field=field)
    unknown = sorted(set(value) - set(PARAMS))
    if unknown:
        raise validation(
            f"{field} has unknown keys {unknown}; allowed: {sorted(PARAMS)}", field=field
        )
    return {
        name: PARAMS[name].check(f"{field}.{name}", raw)
        for name, raw in value.items()
        if raw is not None
    }


def merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """A window's effective params: its overrides over the model's defaults."""
    return {**defaults, **overrides}


def differing(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The overrides that actually change something, for headers and tables."""
    return {k: v for k, v in overrides.items() if defaults.get(k) != v}
