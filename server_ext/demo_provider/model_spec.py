"""What a request's model name asks of the demo provider.

The name is a preset or any name, optionally followed by options after semicolons:
``demo-swift;tps=200;ttft_ms=50;fault=stall``. Options:

``tps``          tokens per second (0: as fast as possible)
``ttft_ms``      delay before the first content token
``fault``        one of :data:`FAULTS` (the ``X-Demo-Fault`` header does the same; the
                 name wins)
``echo``         the reply is the last user message, verbatim
``stall_after``  tokens sent before a ``stall`` (also where mid-stream faults strike)
``retry_after``  seconds a 429 asks the client to wait
``key``          the API key the ``auth`` fault accepts (setting it turns the check on)
``tokens``       the reply is exactly this many tokens long (benchmarks; at most 100,000)
``reasoning``    stream this many ``reasoning_content`` tokens before the reply
``judge``        grade like an LLM judge: the reply is JSON ``{"score", "rationale"}``
                 about the ``<reply>`` block of the last user message (see
                 ``replies.judge_reply``)

A request that offers ``tools`` gets a tool call (``tools.py``).

An unknown option or a bad value is refused with a 400, so that a typo in a test shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from .presets import Preset, preset_for

FAULTS = frozenset(
    {
        "slow_first",
        "stall",
        "rate_limit",
        "server_error",
        "malformed",
        "split",
        "early_close",
        "no_done",
        "inband_error",
        "no_usage",
        "refuse_stream_options",
        "redirect",
        "rate_limit_once",
        "server_error_once",
        "auth",
        "leak_key",
        "leak_key_inband",
        "leak_key_finish",
        "context_length",
        "quota",
        "model_not_found",
    }
)

# Delay of ``slow_first`` when the name sets no ttft_ms: longer than any test's patience.
SLOW_FIRST_MS = 30_000
DEFAULT_STALL_AFTER = 5
# Longest reply the tokens option may ask for (the provider may be mounted in a shared
# server: no request should make it build a huge reply).
MAX_TOKENS = 100_000


class ModelSpecError(ValueError):
    """The model name carries an option the demo provider does not understand."""


@dataclass(frozen=True)
class ModelSpec:
    base_name: str
    preset: Preset
    tps: float
    ttft_ms: int
    fault: str | None
    echo: bool
    stall_after: int
    retry_after: float
    key: str | None
    tokens: int | None
    reasoning: int = 0
    judge: bool = False

    @property
    def checks_key(self) -> bool:
        return self.fault == "auth" or self.key is not None


def _number(name: str, text: str, *, integer: bool) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise ModelSpecError(f"model option {name} must be {kind}") from None
    if value < 0:
        raise ModelSpecError(f"model option {name} must not be negative")
    return value


def parse_model(model: str, header_fault: str | None = None) -> ModelSpec:
    """Read a model name such as ``demo-sage;tps=0;fault=split``."""
    base, *parts = (part.strip() for part in model.split(";"))
    preset = preset_for(base)
    options: dict[str, str] = {}
    for part in parts:
        if not part:
            continue
        name, sep, value = part.partition("=")
        options[name.strip()] = value.strip() if sep else ""
    unknown = set(options) - {
        "tps",
        "ttft_ms",
        "fault",
        "echo",
        "stall_after",
        "retry_after",
        "key",
        "tokens",
        "reasoning",
        "judge",
    }
    if unknown:
        raise ModelSpecError(f"unknown model option {sorted(unknown)[0]!r}")
    fault = options.get("fault") or (header_fault or "").strip() or None
    if fault is not None and fault not in FAULTS:
        raise ModelSpecError(f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
    ttft_default = SLOW_FIRST_MS if fault == "slow_first" else preset.ttft_ms
    tokens = options.get("tokens")
    if tokens and _number("tokens", tokens, integer=True) > MAX_TOKENS:
        raise ModelSpecError(f"model option tokens is at most {MAX_TOKENS}")
    return ModelSpec(
        base_name=base,
        preset=preset,
        tps=_number("tps", options.get("tps", str(preset.tps)), integer=False),
        ttft_ms=int(_number("ttft_ms", options.get("ttft_ms", str(ttft_default)), integer=True)),
        fault=fault,
        echo=options.get("echo", "0") in {"", "1", "true", "yes"},
        stall_after=int(
            _number(
                "stall_after",
                options.get("stall_after", str(DEFAULT_STALL_AFTER)),
                integer=True,
            )
        ),
        retry_after=_number("retry_after", options.get("retry_after", "1"), integer=False),
        key=options.get("key") or None,
        tokens=int(_number("tokens", tokens, integer=True)) if tokens else None,
        reasoning=int(_number("reasoning", options.get("reasoning", "0"), integer=True)),
        judge=options.get("judge", "0") in {"", "1", "true", "yes"},
    )
