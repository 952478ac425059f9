"""The demo provider's models: three presets with distinct speeds and styles.

The upstream model name picks the preset (``demo-swift``, ``demo-scholar``, ``demo-sage``).
Any other name is served too, in a balanced style and as fast as possible, so that tests
and benchmarks can name models freely and set the pace with options (``model_spec.py``).
:data:`DEMO_MODELS` is what the quick start registers as ChatMore models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Reply styles the composer knows (``replies.py``).
STYLES = ("concise", "balanced", "detailed", "thoughtful")


@dataclass(frozen=True)
class Preset:
    name: str
    style: str
    tps: float  # tokens per second; 0 means as fast as possible
    ttft_ms: int  # delay before the first content token
    notes: str


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "demo-swift",
            "concise",
            tps=150,
            ttft_ms=120,
            notes="Fast and concise: short answers at about 150 tokens per second.",
        ),
        Preset(
            "demo-scholar",
            "detailed",
            tps=60,
            ttft_ms=400,
            notes="Medium speed, detailed answers with key points and an example.",
        ),
        Preset(
            "demo-sage",
            "thoughtful",
            tps=25,
            ttft_ms=1500,
            notes="Slow and thoughtful: pauses before answering, then reasons step by step.",
        ),
    )
}

# Names that are not presets: balanced replies, no pacing.
DEFAULT_PRESET = Preset("default", "balanced", tps=0, ttft_ms=0, notes="")


def preset_for(base_name: str) -> Preset:
    return PRESETS.get(base_name, DEFAULT_PRESET)


def _demo_model(name: str, upstream: str, temperature: float) -> dict[str, Any]:
    return {
        "name": name,
        "upstream_model": upstream,
        "notes": PRESETS[upstream].notes,
        "default_params": {"temperature": temperature, "max_tokens": 1024, "timeout_ms": 60000},
    }


# What the quick start registers: {name, upstream_model, notes, default_params}.
DEMO_MODELS: list[dict[str, Any]] = [
    _demo_model("Demo Swift", "demo-swift", 0.3),
    _demo_model("Demo Scholar", "demo-scholar", 0.7),
    _demo_model("Demo Sage", "demo-sage", 1.0),
]
