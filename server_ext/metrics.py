"""Prometheus metrics of ChatMore, declared once.

They live in prometheus_client's default registry, so Jupyter server's own ``/metrics``
shows them (behind Jupyter's authentication), and ChatMore serves them at
``chatmore/metrics`` to admins or to a scraper holding ``CHATMORE_METRICS_TOKEN``. Labels
carry model names (set by admins), outcomes, error codes, routes and statuses — never
user content, ids or secrets.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Seconds; LLM calls range from tens of milliseconds to minutes.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)

PROVIDER_REQUESTS = Counter(
    "chatmore_provider_requests_total",
    "Provider calls by model and outcome (succeeded, failed, cancelled) and error code.",
    ["model", "outcome", "code"],
)
PROVIDER_LATENCY = Histogram(
    "chatmore_provider_latency_seconds",
    "Time from a provider call's start to its end.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_TTFT = Histogram(
    "chatmore_provider_ttft_seconds",
    "Time from a provider call's start to its first token.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
PROVIDER_TOKENS = Counter(
    "chatmore_provider_tokens_total",
    "Tokens reported by providers, by model and kind (prompt, completion).",
    ["model", "kind"],
)
PROVIDER_STREAMS = Gauge(
    "chatmore_provider_streams_active", "Provider calls in flight (queued ones excluded)."
)
SSE_STREAMS = Gauge("chatmore_sse_streams_active", "Open SSE connections to clients.")
CIRCUIT_STATE = Gauge(
    "chatmore_model_circuit_state",
    "Each model's circuit breaker as this process last saw it: 0 closed, 1 half-open "
    "(one probe call in flight), 2 open (calls refused).",
    ["model"],
)
TURNS = Counter("chatmore_turns_total", "Turns started, by mode (broadcast, single).", ["mode"])
HTTP_REQUESTS = Counter(
    "chatmore_http_requests_total",
    "Requests to ChatMore's API by route, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "chatmore_http_request_duration_seconds",
    "Time to answer a request to ChatMore's API (SSE streams excluded), by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
