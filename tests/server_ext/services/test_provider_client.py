"""The provider client against real providers over real sockets: the demo provider as a
process of its own, and raw TCP servers for what no well-behaved provider does."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from server_ext.services.provider_client import (
    Delta,
    ProviderClient,
    ProviderError,
    ProviderTarget,
    StreamEnd,
)
from tests.support.providers import DemoProvider, RawServer, self_signed_tls
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio

MESSAGES = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "How do I join two tables in SQL?"},
]
DEFAULTS: dict[str, Any] = {
    "connect_timeout": 2.0,
    "first_token_timeout": 5.0,
    "idle_timeout": 3.0,
    "allow_private": True,
}

MakeClient = Callable[..., ProviderClient]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    made: list[ProviderClient] = []

    def make(**overrides: Any) -> ProviderClient:
        client = ProviderClient(**{**DEFAULTS, **overrides})
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


def name(label: str, options: str = "") -> str:
    """A model name of this test's own, so recorded requests can be told apart."""
    return f"pc-{label}-{uuid.uuid4().hex[:8]}{options}"


def target(
    provider: DemoProvider, model: str, *, key: str | None = "sk-test", timeout_s: float = 20
) -> ProviderTarget:
    return ProviderTarget(provider.url, key, model, timeout_s)


async def collect(
    client: ProviderClient,
    to: ProviderTarget,
    params: dict | None = None,
    messages: list[dict] | None = None,
) -> tuple[list[str], StreamEnd]:
    deltas: list[str] = []
    ends: list[StreamEnd] = []
    async with contextlib.aclosing(client.stream(to, messages or MESSAGES, params or {})) as s:
        async for item in s:
            if isinstance(item, Delta):
                assert not ends, "nothing comes after the StreamEnd"
                deltas.append(item.text)
            else:
                ends.append(item)
    assert len(ends) == 1
    return deltas, ends[0]


async def failure(client: ProviderClient, to: ProviderTarget, params: dict | None = None):
    with pytest.raises(ProviderError) as caught:
        await collect(client, to, params)
    return caught.value


async def recorded(provider: DemoProvider, model: str) -> list[dict]:
    return await asyncio.to_thread(provider.requests, model)


async def full_text(client: ProviderClient, provider: DemoProvider, base: str) -> str:
    """The whole reply the demo model ``base`` gives to MESSAGES."""
    return (await collect(client, target(provider, base)))[1].text


# -- a reply ----------------------------------------------------------------------------


async def test_a_stream_yields_deltas_then_one_end_with_usage(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("ok")
    params = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 400, "timeout_ms": 9000, "x": 1}
    deltas, end = await collect(make_client(), target(demo_provider, model), params)
    assert len(deltas) > 20 and all(deltas)
    assert end.text == "".join(deltas)
    assert "```" in end.text
    assert end.finish_reason == "stop"
    assert end.usage is not None
    assert end.usage.completion_tokens == len(deltas)
    assert end.usage.total_tokens == end.usage.prompt_tokens + end.usage.completion_tokens
    assert end.ttft_ms is not None and 0 <= end.ttft_ms <= end.latency_ms
    assert end.decode_ms is not None and end.decode_ms <= end.latency_ms
    (sent,) = await recorded(demo_provider, model)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"] == {
        "model": model,
        "messages": MESSAGES,
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 400,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert sent["headers"]["authorization"] == "Bearer sk-test"


async def test_max_tokens_ends_with_length(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    deltas, end = await collect(
        make_client(), target(demo_provider, name("len")), {"max_tokens": 6}
    )
    assert len(deltas) == 6
    assert end.finish_reason == "length"
    assert end.usage is not None and end.usage.completion_tokens == 6


async def test_no_usage_gives_none(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    _, end = await collect(make_client(), target(demo_provider, name("nu", ";fault=no_usage")))
    assert end.text and end.usage is None


async def test_frames_split_across_reads_parse(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    base = name("split")
    _, split = await collect(client, target(demo_provider, f"{base};fault=split"))
    assert split.text == await full_text(client, demo_provider, base)
    assert split.usage is not None


async def test_quirky_but_valid_sse_parses(make_client: MakeClient) -> None:
    """CRLF line ends, ``data:`` without a space, comments, keep-alives and one event
    over two ``data:`` lines: all part of SSE, all accepted."""
    chunk = '{"choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}'
    body = (
        ": keep-alive comment\r\n\r\n"
        f"data:{chunk % 'Hello'}\r\n\r\n"
        "\r\n"
        f"data: {chunk % ', world'}\r\n\r\n"
        'data: {"choices":[{"index":0,\r\ndata: "delta":{"content":"!"}}]}\r\n\r\n'
        'data:{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\n\r\n'
        'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,'
        '"total_tokens":5}}\r\n\r\n'
        "data: [DONE]\r\n\r\n"
    ).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
    server = RawServer(head + body)
    try:
        to = ProviderTarget(f"http://127.0.0.1:{server.port}/v1", None, "quirky", 5)
        deltas, end = await collect(make_client(), to)
    finally:
        server.close()
    assert deltas == ["Hello", ", world", "!"]
    assert end.finish_reason == "stop"
    assert end.usage is not None and end.usage.total_tokens == 5


async def test_complete_answers_whole(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    base = name("whole")
    end = await client.complete(target(demo_provider, base), MESSAGES, {"timeout_ms": 5})
    assert end.text == await full_text(client, demo_provider, base)
    assert end.finish_reason == "stop"
    assert end.usage is not None and end.usage.completion_tokens
    assert end.ttft_ms is None and end.decode_ms is None and end.latency_ms >= 0
    sent = (await recorded(demo_provider, base))[0]["body"]
    assert "stream" not in sent and "timeout_ms" not in sent


async def test_calls_share_the_pooled_connection(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    model = name("pool")
    for _ in range(3):
        await collect(client, target(demo_provider, model))
    await client.complete(target(demo_provider, model), MESSAGES, {})
    requests = await recorded(demo_provider, model)
    assert len(requests) == 4
    assert len({r["peer"] for r in requests}) == 1, "one kept-alive connection"


# -- stream_options ---------------------------------------------------------------------


async def test_a_refused_stream_options_is_dropped_and_remembered(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    model = name("refuse", ";fault=refuse_stream_options")
    _, end = await collect(client, target(demo_provider, model))
    assert end.text and end.usage is None
    first, retry = await recorded(demo_provider, model)
    assert first["body"]["stream_options"] == {"include_usage": True}
    assert first["status"] == 400
    assert "stream_options" not in retry["body"] and retry["status"] == 200

    await collect(client, target(demo_provider, model))
    requests = await recorded(demo_provider, model)
    assert len(requests) == 3, "the second call does not try stream_options again"
    assert "stream_options" not in requests[2]["body"]

    other = name("other")
    await collect(client, target(demo_provider, other))
    assert "stream_options" in (await recorded(demo_provider, other))[0]["body"]


# -- failures mid-stream keep their text ------------------------------------------------


@pytest.mark.parametrize("fault", ["malformed", "early_close", "no_done", "inband_error"])
async def test_a_broken_stream_is_a_bad_response_with_its_text(
    demo_provider: DemoProvider, make_client: MakeClient, fault: str
) -> None:
    client = make_client()
    base = name(fault)
    model = f"{base};fault={fault};stall_after=5"
    error = await failure(client, target(demo_provider, model))
    assert error.code == "PROVIDER_BAD_RESPONSE"
    full = await full_text(client, demo_provider, base)
    assert error.partial_text and full.startswith(error.partial_text)
    if fault != "no_done":
        assert len(error.partial_text) < len(full)
    assert error.ttft_ms is not None and error.latency_ms is not None
    assert len(await recorded(demo_provider, model)) == 1, "never retried after text"
    if fault == "inband_error":
        assert "overloaded" in error.message


# -- HTTP errors and retries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "code", "status", "attempts"),
    [
        (";fault=rate_limit;retry_after=0.05", "PROVIDER_RATE_LIMITED", 429, 3),
        (";fault=server_error", "PROVIDER_HTTP_ERROR", 500, 3),
        (";fault=auth;key=sk-other", "PROVIDER_AUTH_FAILED", 401, 1),
        (";fault=redirect", "PROVIDER_HTTP_ERROR", 302, 1),
    ],
)
async def test_error_statuses_map_to_codes(
    demo_provider: DemoProvider,
    make_client: MakeClient,
    options: str,
    code: str,
    status: int,
    attempts: int,
) -> None:
    model = name("status", options)
    error = await failure(make_client(), target(demo_provider, model))
    assert error.code == code
    assert error.http_status == status
    assert str(status) in error.message
    assert error.partial_text == "" and error.ttft_ms is None
    assert len(await recorded(demo_provider, model)) == attempts


async def test_a_redirect_is_never_followed(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    demo_provider.clear()
    error = await failure(make_client(), target(demo_provider, name("redir", ";fault=redirect")))
    assert "redirect" in error.message
    paths = [r["path"] for r in await asyncio.to_thread(demo_provider.requests)]
    assert paths == ["/v1/chat/completions"]


async def test_messages_show_a_short_upstream_code_never_the_body(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    error = await failure(
        make_client(max_retries=0), target(demo_provider, name("body", ";fault=rate_limit"))
    )
    assert "rate_limit_exceeded" in error.message
    assert "Please try again later" not in error.message  # the upstream's own words


@pytest.mark.parametrize("fault", ["rate_limit_once;retry_after=0.05", "server_error_once"])
async def test_a_failure_before_any_text_is_retried(
    demo_provider: DemoProvider, make_client: MakeClient, fault: str
) -> None:
    model = name("once", f";fault={fault}")
    _, end = await collect(make_client(), target(demo_provider, model))
    assert end.text
    first, second = await recorded(demo_provider, model)
    assert first["status"] in (429, 500) and second["status"] == 200
    assert first["body"] == second["body"]


async def test_retries_stop_at_max_retries(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("none", ";fault=server_error")
    await failure(make_client(max_retries=0), target(demo_provider, model))
    assert len(await recorded(demo_provider, model)) == 1


async def test_a_retry_after_past_the_total_time_gives_up_at_once(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("wait", ";fault=rate_limit;retry_after=30")
    started = time.monotonic()
    error = await failure(make_client(), target(demo_provider, model, timeout_s=5))
    assert error.code == "PROVIDER_RATE_LIMITED"
    assert time.monotonic() - started < 15  # did not sit out the 30 s
    assert len(await recorded(demo_provider, model)) == 1


async def test_a_retry_after_longer_than_we_would_wait_gives_up_at_once(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    """Plenty of total time, but the provider asks for a pause past MAX_RETRY_WAIT_S:
    retrying early would be refused again, so the user hears at once."""
    model = name("long", ";fault=rate_limit;retry_after=30")
    started = time.monotonic()
    error = await failure(make_client(), target(demo_provider, model, timeout_s=120))
    assert error.code == "PROVIDER_RATE_LIMITED"
    assert time.monotonic() - started < 15  # did not sit out the 30 s
    assert len(await recorded(demo_provider, model)) == 1


@pytest.mark.parametrize("fault", ["stall", "early_close"])
async def test_no_retry_once_text_has_streamed(
    demo_provider: DemoProvider, make_client: MakeClient, fault: str
) -> None:
    model = name("late", f";fault={fault};stall_after=3")
    error = await failure(make_client(idle_timeout=0.5), target(demo_provider, model))
    assert error.partial_text
    assert len(await recorded(demo_provider, model)) == 1


# -- limits -----------------------------------------------------------------------------


async def test_first_token_limit(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    model = name("first", ";fault=slow_first")
    started = time.monotonic()
    error = await failure(make_client(first_token_timeout=0.5), target(demo_provider, model))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "first-token limit" in error.message
    assert error.partial_text == ""
    # The limit, not the provider's 30 s delay, ended it (lower bound exact; the upper
    # one far from both, so that a busy machine cannot break it).
    assert 0.5 <= time.monotonic() - started < 15
    assert len(await recorded(demo_provider, model)) == 1


async def test_a_slow_first_token_within_the_limit_is_fine(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("slowok", ";fault=slow_first;ttft_ms=400")
    _, end = await collect(make_client(first_token_timeout=3), target(demo_provider, model))
    assert end.ttft_ms is not None and end.ttft_ms >= 400


async def test_idle_limit(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    client = make_client(idle_timeout=0.5)
    base = name("idle")
    error = await failure(client, target(demo_provider, f"{base};fault=stall;stall_after=4"))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "idle limit" in error.message
    full = await full_text(client, demo_provider, base)
    assert error.partial_text and full.startswith(error.partial_text)


async def test_total_limit(demo_provider: DemoProvider, make_client: MakeClient) -> None:
    model = name("total", ";tps=20;tokens=600")  # 30 s of reply
    started = time.monotonic()
    error = await failure(make_client(), target(demo_provider, model, timeout_s=0.7))
    assert error.code == "PROVIDER_TIMEOUT"
    assert "total limit" in error.message
    assert error.partial_text
    assert time.monotonic() - started < 15


async def test_a_consumer_slower_than_the_idle_limit_is_not_a_silent_provider(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    """Silence is counted from when the consumer asks for more, not while it works on
    what it was given (one timer per call: it must not cancel the consumer's work)."""
    client = make_client(idle_timeout=0.3)
    model = name("slowreader", ";tps=50;tokens=6")
    texts: list[str] = []
    async with contextlib.aclosing(
        client.stream(target(demo_provider, model), MESSAGES, {})
    ) as stream:
        async for item in stream:
            if isinstance(item, Delta):
                texts.append(item.text)
                await asyncio.sleep(0.5)  # longer than the idle limit, between two reads
            else:
                end = item
    assert len(texts) == 6 and end.text == "".join(texts)


async def test_connect_limit(make_client: MakeClient) -> None:
    silent = RawServer(None)  # TCP connects; the TLS handshake never completes
    try:
        to = ProviderTarget(f"https://127.0.0.1:{silent.port}/v1", None, "m", 10)
        started = time.monotonic()
        error = await failure(make_client(connect_timeout=0.3), to)
    finally:
        silent.close()
    assert error.code == "PROVIDER_TIMEOUT"
    assert "connect limit" in error.message  # not the 10 s total limit
    assert time.monotonic() - started < 10


async def test_an_untrusted_certificate_is_refused(
    make_client: MakeClient, tmp_path: Path
) -> None:
    # A provider that would stream a whole reply, over TLS with a self-signed certificate.
    body = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
    )
    server = RawServer(reply, tls=self_signed_tls(tmp_path))
    try:
        to = ProviderTarget(f"https://127.0.0.1:{server.port}/v1", "sk-test", "m", 10)
        error = await failure(make_client(), to)
    finally:
        server.close()
    assert error.code == "PROVIDER_UNREACHABLE"
    assert "certificate" in error.message.lower()


# -- unreachable and refused addresses --------------------------------------------------


async def test_a_closed_port_is_unreachable(make_client: MakeClient) -> None:
    to = ProviderTarget(f"http://127.0.0.1:{free_port()}/v1", None, "m", 10)
    error = await failure(make_client(max_retries=0), to)
    assert error.code == "PROVIDER_UNREACHABLE"


async def test_an_unknown_host_is_unreachable(make_client: MakeClient) -> None:
    to = ProviderTarget("http://no-such-host.invalid/v1", None, "m", 10)
    error = await failure(make_client(max_retries=0), to)
    assert error.code == "PROVIDER_UNREACHABLE"
    assert "does not resolve" in error.message


@pytest.mark.parametrize(
    "base_url",
    [
        "http://169.254.169.254/v1",
        "http://169.254.169.254:80/latest/meta-data",
        "http://[fd00:ec2::254]/v1",
        "http://[::ffff:169.254.169.254]/v1",
        "http://100.100.100.200/v1",
        "http://0.0.0.0:9/v1",
    ],
)
async def test_metadata_addresses_are_refused_at_call_time(
    make_client: MakeClient, base_url: str
) -> None:
    started = time.monotonic()
    client = make_client(connect_timeout=30)
    error = await failure(client, ProviderTarget(base_url, "sk-x", "m", 60))
    assert error.code == "PROVIDER_URL_REFUSED"
    # A connection attempt would sit out the 30 s connect limit.
    assert time.monotonic() - started < 10, "refused before any connection attempt"


async def test_loopback_is_refused_unless_private_addresses_are_allowed(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    model = name("private")
    by_name = demo_provider.url.replace("127.0.0.1", "localhost")
    for base_url in (by_name, demo_provider.url):
        to = ProviderTarget(base_url, None, model, 10)
        error = await failure(make_client(allow_private=False), to)
        assert error.code == "PROVIDER_URL_REFUSED"
        assert "loopback or private" in error.message
    assert await recorded(demo_provider, model) == []
    _, end = await collect(
        make_client(allow_private=True), ProviderTarget(by_name, None, model, 10)
    )
    assert end.text


@pytest.mark.parametrize("host", ["[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
async def test_ip_literal_loopback_forms_are_refused_at_connect_time(
    demo_provider: DemoProvider, make_client: MakeClient, host: str
) -> None:
    """IPv6 literals (the client does not resolve literals: the guard checks them)."""
    port = demo_provider.url.rsplit(":", 1)[1].split("/")[0]
    model = name("literal")
    to = ProviderTarget(f"http://{host}:{port}/v1", None, model, 10)
    error = await failure(make_client(allow_private=False, max_retries=0), to)
    assert error.code == "PROVIDER_URL_REFUSED"
    assert "loopback or private" in error.message
    assert await recorded(demo_provider, model) == []


@pytest.mark.parametrize(
    "base_url", ["ftp://127.0.0.1/v1", "file:///etc/passwd", "http://user:pw@127.0.0.1/v1"]
)
async def test_other_schemes_and_credentials_are_refused(
    make_client: MakeClient, base_url: str
) -> None:
    error = await failure(make_client(), ProviderTarget(base_url, None, "m", 10))
    assert error.code == "PROVIDER_URL_REFUSED"


# -- secrets and logs -------------------------------------------------------------------


async def test_the_key_appears_nowhere_but_the_authorization_header(
    demo_provider: DemoProvider, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    canary = f"sk-canary-{uuid.uuid4().hex}"
    client = make_client(max_retries=0, first_token_timeout=0.5, idle_timeout=0.5)
    ok = target(demo_provider, name("canary"), key=canary)
    assert canary not in repr(ok) and canary not in str(ok)
    _, end = await collect(client, ok)
    failing = [
        target(demo_provider, name("c1", ";fault=auth;key=sk-other"), key=canary),
        target(demo_provider, name("c2", ";fault=server_error"), key=canary),
        target(demo_provider, name("c3", ";fault=malformed"), key=canary),
        target(demo_provider, name("c4", ";fault=slow_first"), key=canary),
        target(demo_provider, name("c5", ";fault=stall"), key=canary),
        target(demo_provider, name("c6", ";fault=redirect"), key=canary),
        ProviderTarget(f"http://127.0.0.1:{free_port()}/v1", canary, "m", 5),
        ProviderTarget("http://169.254.169.254/v1", canary, "m", 5),
        ProviderTarget("http://no-such-host.invalid/v1", canary, "m", 5),
        ProviderTarget(demo_provider.url, f"{canary}\nX-Injected: 1", "m", 5),
        ProviderTarget(demo_provider.url, f"{canary} é", "m", 5),
    ]
    errors = [await failure(client, to) for to in failing]
    probe = await client.probe(failing[0])
    for error in errors:
        for text in (str(error), repr(error), error.message, error.partial_text, repr(error.args)):
            assert canary not in text
    assert canary not in json.dumps(probe.error)
    assert canary not in caplog.text
    for record in caplog.records:
        assert canary not in record.getMessage()
    sent = await recorded(demo_provider, ok.model)
    assert sent[0]["headers"]["authorization"] == f"Bearer {canary}"
    assert canary not in json.dumps(sent[0]["body"])
    assert canary not in end.text


async def test_one_log_line_per_call_without_content(
    demo_provider: DemoProvider, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatmore.provider")
    client = make_client()
    ok_model = name("log")
    _, end = await collect(client, target(demo_provider, ok_model))
    retried = name("log", ";fault=server_error_once")
    await collect(client, target(demo_provider, retried))
    await failure(client, target(demo_provider, name("log", ";fault=auth")))
    lines = [r for r in caplog.records if r.name == "chatmore.provider"]
    assert len(lines) == 3
    assert all(r.levelno == logging.INFO for r in lines)
    first, second, third = (r.getMessage() for r in lines)
    assert f"model={ok_model}" in first and "outcome=ok" in first and "retries=0" in first
    assert "ttft_ms=" in first and "latency_ms=" in first
    assert "outcome=ok" in second and "retries=1" in second
    assert "outcome=PROVIDER_AUTH_FAILED" in third
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "join two tables" not in everything
    assert end.text.splitlines()[0] not in everything


# -- cancellation -----------------------------------------------------------------------


def provider_log_lines(caplog: pytest.LogCaptureFixture, model: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "chatmore.provider" and f"model={model}" in r.getMessage()
    ]


async def test_cancelling_the_consumer_closes_the_upstream_response(
    demo_provider: DemoProvider, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatmore.provider")
    model = name("cancel", ";tps=5")
    first = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(
            make_client().stream(target(demo_provider, model), MESSAGES, {})
        ) as s:
            async for item in s:
                if isinstance(item, Delta):
                    first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 10  # not the reply's remaining ~25 s

    async def provider_saw_it() -> bool:
        while True:
            (entry,) = await recorded(demo_provider, model)
            if entry["outcome"] == "client_disconnected":
                return True
            await asyncio.sleep(0.05)

    assert await asyncio.wait_for(provider_saw_it(), 5)
    (line,) = provider_log_lines(caplog, model)
    assert "outcome=cancelled" in line


async def test_breaking_out_early_closes_the_upstream_response(
    demo_provider: DemoProvider, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chatmore.provider")
    model = name("break", ";tps=5")
    async with contextlib.aclosing(
        make_client().stream(target(demo_provider, model), MESSAGES, {})
    ) as s:
        async for item in s:
            assert isinstance(item, Delta)
            break
    for _ in range(100):
        (entry,) = await recorded(demo_provider, model)
        if entry["outcome"] == "client_disconnected":
            break
        await asyncio.sleep(0.05)
    assert entry["outcome"] == "client_disconnected"
    (line,) = provider_log_lines(caplog, model)
    assert "outcome=cancelled" in line


# -- probe ------------------------------------------------------------------------------


async def test_probe_sends_one_token_and_reports(
    demo_provider: DemoProvider, make_client: MakeClient
) -> None:
    client = make_client()
    model = name("probe")
    result = await client.probe(target(demo_provider, model))
    assert result.ok is True and result.error is None and result.latency_ms >= 0
    (sent,) = await recorded(demo_provider, model)
    assert sent["body"]["max_tokens"] == 1 and "stream" not in sent["body"]

    failing = name("probe", ";fault=server_error")
    bad = await client.probe(target(demo_provider, failing))
    assert bad.ok is False and bad.latency_ms >= 0
    assert bad.error is not None and bad.error["code"] == "PROVIDER_HTTP_ERROR"
    assert set(bad.error) == {"code", "message"}
    assert len(await recorded(demo_provider, failing)) == 1, "a probe is not retried"

    refused = await client.probe(ProviderTarget("http://169.254.169.254/v1", None, "m", 5))
    assert refused.error is not None and refused.error["code"] == "PROVIDER_URL_REFUSED"
