"""The gateway's pass-through client against the demo provider as a process of its own:
events pass unchanged, the limits hold, connections go back to the pool or are closed,
and the URL guard refuses what it refuses for board turns."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from server_ext.services.provider_client import ProviderError, ProviderTarget
from server_ext.services.provider_passthrough import PassthroughClient, Upstream
from tests.support.providers import DemoProvider, parse_sse, stream_frames

pytestmark = pytest.mark.anyio

MESSAGES = [{"role": "user", "content": "How do I join two tables in SQL?"}]
DEFAULTS: dict[str, Any] = {
    "connect_timeout": 2.0,
    "first_token_timeout": 5.0,
    "idle_timeout": 3.0,
    "allow_private": True,
}
# Fields that differ between two calls of the same reply.
PER_CALL = ("id", "created", "system_fingerprint")

MakeClient = Callable[..., PassthroughClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    made: list[PassthroughClient] = []

    def make(**overrides: Any) -> PassthroughClient:
        client = PassthroughClient(**{**DEFAULTS, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def name(label: str, options: str = "") -> str:
    return f"pt-{label}-{uuid.uuid4().hex[:8]}{options}"


def target(provider: DemoProvider, model: str, timeout_s: float = 20, key: str = "sk-test"):
    return ProviderTarget(provider.url, key, model, timeout_s)


def body(stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": "ignored", "messages": MESSAGES, "stream": stream, **extra}


async def events(upstream: Upstream) -> list[bytes]:
    out: list[bytes] = []
    try:
        async for batch in upstream.events():
            out.extend(batch)
    finally:
        await upstream.aclose()
    return out


async def failure(client: PassthroughClient, to: ProviderTarget, **extra: Any) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await events(await client.open(to, body(**extra)))
    return caught.value


async def recorded(provider: DemoProvider, model: str) -> list[dict]:
    return await asyncio.to_thread(provider.requests, model)


def same_reply(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in PER_CALL}


# -- events pass through unchanged ------------------------------------------------------


@pytest.mark.parametrize("options", [";reasoning=5", ""])
async def test_tool_calls_and_reasoning_pass_unchanged(
    demo_provider: DemoProvider, make_client: MakeClient, options: str
) -> None:
    model = name("same", f";tps=0{options}")
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    extra = {"tools": tools} if not options else {}
    upstream = await make_client().open(target(demo_provider, model), body(**extra))
    passed = [json.loads(data) for data in await events(upstream)]
    direct_body = {**body(**extra), "model": model, "stream_options": {"include_usage": True}}
    _, raw = await asyncio.to_thread(stream_frames, demo_provider.url, direct_body)
    direct = parse_sse(raw)
    assert direct[-1] == "[DONE]"
    assert [same_reply(e) for e in passed] == [same_reply(e) for e in direct[:-1]]
    deltas = [e["choices"][0]["delta"] for e in passed if e.get("choices")]
    if options:
        assert any(d.get("reasoning_content") for d in deltas)
        assert upstream.recording.content()
    else:
        assert any(d.get("tool_calls") for d in deltas)
        assert upstream.recording.tool_call_list()


async def test_a_whole_answer_is_recorded(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    upstream = await make_client().open(target(demo_provider, name("whole")), body(False))
    try:
        answer = json.loads(await upstream.answer())
    finally:
        await upstream.aclose()
    assert answer["choices"][0]["message"]["content"] == upstream.recording.content()


# -- connections ------------------------------------------------------------------------


async def test_a_finished_stream_gives_its_connection_back(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    model = name("pool", ";tps=0")
    for _ in range(3):
        await events(await client.open(target(demo_provider, model), body()))
    requests = await recorded(demo_provider, model)
    assert len(requests) == 3
    assert len({r["peer"] for r in requests}) == 1, "one kept-alive connection"


async def test_an_abandoned_stream_closes_its_connection(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("cancel", ";tps=5")
    upstream = await make_client().open(target(demo_provider, model), body())
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in upstream.events():
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task  # an outside cancel stays a cancel, not a timeout
    await upstream.aclose()
    for _ in range(200):
        (entry,) = await recorded(demo_provider, model)
        if entry["outcome"] == "client_disconnected":
            break
        await asyncio.sleep(0.05)
    assert entry["outcome"] == "client_disconnected"


# -- limits -----------------------------------------------------------------------------


async def test_first_token_limit(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    client = make_client(first_token_timeout=0.5)
    error = await failure(client, target(demo_provider, name("first", ";fault=slow_first")))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "first-token limit" in error.message
    assert error.partial_text == ""


async def test_idle_limit_keeps_the_partial_text(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client(idle_timeout=0.5)
    model = name("idle", ";tps=0;fault=stall;stall_after=4")
    error = await failure(client, target(demo_provider, model))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "idle limit" in error.message
    assert error.partial_text and error.ttft_ms is not None


async def test_total_limit(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    model = name("total", ";tps=20;tokens=600")  # 30 s of reply
    error = await failure(make_client(), target(demo_provider, model, timeout_s=0.7))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "total limit" in error.message
    assert error.partial_text


@pytest.mark.parametrize("fault", ["early_close", "malformed", "no_done"])
async def test_a_broken_stream_is_a_bad_response(
    demo_provider: DemoProvider, make_client: MakeClient, fault: str
) -> None:
    model = name(fault, f";tps=0;fault={fault};stall_after=3")
    error = await failure(make_client(), target(demo_provider, model))
    assert error.code == "PROVIDER_BAD_RESPONSE"
    assert error.partial_text


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [
        ("rate_limit", "PROVIDER_RATE_LIMITED", 429),
        ("server_error", "PROVIDER_HTTP_ERROR", 500),
        ("auth;key=sk-other", "PROVIDER_AUTH_FAILED", 401),
        ("redirect", "PROVIDER_HTTP_ERROR", 302),
        ("leak_key", "PROVIDER_HTTP_ERROR", 400),
        ("context_length", "PROVIDER_CONTEXT_TOO_LONG", 400),
        ("quota", "PROVIDER_QUOTA_EXCEEDED", 429),
        ("model_not_found", "PROVIDER_MODEL_NOT_FOUND", 404),
    ],
)
async def test_error_statuses_are_neither_followed_nor_echoed(
    demo_provider: DemoProvider, make_client: MakeClient, fault: str, code: str, status: int
) -> None:
    canary = f"sk-canary-{uuid.uuid4().hex}"
    model = name("status", f";fault={fault}")
    with pytest.raises(ProviderError) as caught:
        await make_client().open(target(demo_provider, model, key=canary), body())
    assert (caught.value.code, caught.value.http_status) == (code, status)
    for text in (caught.value.message, repr(caught.value), str(caught.value.args)):
        assert canary.lower() not in text.lower()
    assert len(await recorded(demo_provider, model)) == 1, "no redirect followed, no retry"


# -- the URL guard ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"]
)
async def test_loopback_is_refused_by_name_and_by_literal(
    demo_provider: DemoProvider, make_client: MakeClient, host: str
) -> None:
    port = demo_provider.url.rsplit(":", 1)[1].split("/")[0]
    model = name("private")
    to = ProviderTarget(f"http://{host}:{port}/v1", None, model, 10)
    with pytest.raises(ProviderError) as caught:
        await make_client(allow_private=False).open(to, body())
    assert caught.value.code == "PROVIDER_URL_REFUSED"
    assert "loopback or private" in caught.value.message
    assert await recorded(demo_provider, model) == []


@pytest.mark.parametrize(
    "base_url",
    ["http://0x7f.0.0.1:9/v1", "http://2130706433:9/v1", "ftp://127.0.0.1/v1", "http://u:p@h/v1"],
)
async def test_urls_the_policy_refuses_are_never_called(
    make_client: MakeClient, base_url: str
) -> None:
    with pytest.raises(ProviderError) as caught:
        await make_client().open(ProviderTarget(base_url, None, "m", 10), body())
    assert caught.value.code == "PROVIDER_URL_REFUSED"


async def test_an_outside_cancel_while_opening_is_a_cancel(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    """How the gateway drops a call whose rows could not be written."""
    model = name("drop", ";fault=slow_first")
    opening = asyncio.ensure_future(make_client().open(target(demo_provider, model), body(False)))
    for _ in range(200):
        if await recorded(demo_provider, model):
            break
        await asyncio.sleep(0.05)
    opening.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await opening
    assert opening.cancelled()
