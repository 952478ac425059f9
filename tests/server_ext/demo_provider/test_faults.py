"""Each fault mode of the demo provider does what it says, seen from a plain HTTP client."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.support.providers import DemoProvider, chat_body, content_of, parse_sse, stream_frames

PROMPT = "How do I join two tables in SQL?"


def unique(prefix: str) -> str:
    """A prompt of its own, so *_once faults see a new conversation."""
    return f"{prefix} {uuid.uuid4().hex}"


def post(provider: DemoProvider, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{provider.url}/chat/completions", json=body, timeout=10, **kwargs)


def normal_text(provider: DemoProvider, prompt: str = PROMPT) -> str:
    return content_of(parse_sse(stream_frames(provider.url, chat_body("fault", prompt))[1]))


def test_slow_first_delays_the_first_token(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=slow_first;ttft_ms=5000", stream=True)
    started = time.monotonic()
    seen: list[tuple[float, str]] = []
    url = f"{demo_provider.url}/chat/completions"
    with httpx.stream("POST", url, json=body, timeout=30) as response:
        for line in response.iter_lines():
            if line.startswith("data: {"):
                seen.append((time.monotonic() - started, line))
    # The role chunk comes at once: well before the delay, even on a busy machine.
    assert '"role":"assistant"' in seen[0][1] and seen[0][0] < 2.5
    assert seen[1][0] >= 5.0


def test_stall_stops_mid_stream_and_keeps_the_connection(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=stall;stall_after=3", stream=True)
    lines: list[str] = []
    timeout = httpx.Timeout(10, read=0.8)
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST", f"{demo_provider.url}/chat/completions", json=body, timeout=timeout
        ) as response,
    ):
        lines.extend(line for line in response.iter_lines() if line)
    contents = [json.loads(line[6:]) for line in lines[1:]]
    assert len(contents) == 3
    assert all(c["choices"][0]["delta"]["content"] for c in contents)


def test_stall_after_the_reply_when_it_is_short(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=stall;stall_after=100000", stream=True)
    received = bytearray()
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            f"{demo_provider.url}/chat/completions",
            json=body,
            timeout=httpx.Timeout(10, read=0.8),
        ) as response,
    ):
        for piece in response.iter_raw():
            received += piece
    frames = parse_sse(bytes(received))
    assert content_of(frames) == normal_text(demo_provider)
    assert all(f["choices"][0]["finish_reason"] is None for f in frames)


def test_rate_limit_answers_429_with_retry_after(demo_provider: DemoProvider) -> None:
    answer = post(demo_provider, chat_body("fault;fault=rate_limit;retry_after=7"))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "7"
    assert answer.headers["retry-after-ms"] == "7000"
    assert answer.json()["error"]["code"] == "rate_limit_exceeded"


def test_server_error_answers_500(demo_provider: DemoProvider) -> None:
    answer = post(demo_provider, chat_body("fault;fault=server_error", stream=True))
    assert answer.status_code == 500
    assert answer.json()["error"]["type"] == "server_error"


@pytest.mark.parametrize(
    ("fault", "status", "kind", "code"),
    [
        ("context_length", 400, "invalid_request_error", "context_length_exceeded"),
        ("quota", 429, "insufficient_quota", "insufficient_quota"),
        ("model_not_found", 404, "invalid_request_error", "model_not_found"),
    ],
)
def test_refusals_in_openais_words(
    demo_provider: DemoProvider, fault: str, status: int, kind: str, code: str
) -> None:
    for stream in (False, True):
        answer = post(demo_provider, chat_body(f"fault;fault={fault}", stream=stream))
        assert answer.status_code == status
        error = answer.json()["error"]
        assert (error["type"], error["code"]) == (kind, code)
        assert error["message"]


def test_malformed_sends_a_frame_of_invalid_json(demo_provider: DemoProvider) -> None:
    _, raw = stream_frames(demo_provider.url, chat_body("fault;fault=malformed;stall_after=4"))
    frames = raw.decode().split("\n\n")[:-1]
    bad = []
    for i, frame in enumerate(frames):
        payload = frame.removeprefix("data: ")
        if payload == "[DONE]":
            continue
        try:
            json.loads(payload)
        except json.JSONDecodeError:
            bad.append(i)
    assert bad == [5]  # the role chunk, four tokens, then the broken frame
    assert frames[-1] == "data: [DONE]"


def test_split_cuts_frames_across_writes_yet_parses(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=split;tokens=15", stream=True)
    reads: list[bytes] = []
    with httpx.stream("POST", f"{demo_provider.url}/chat/completions", json=body) as response:
        reads.extend(response.iter_raw())
    assert len(reads) > 15
    assert any(not r.endswith(b"\n") for r in reads), "some reads end mid-line"
    assert any(r.endswith(b"\n") and not r.endswith(b"\n\n") for r in reads), "…or mid-frame"
    frames = parse_sse(b"".join(reads))
    assert frames[-1] == "[DONE]"
    plain = parse_sse(stream_frames(demo_provider.url, chat_body("fault;tokens=15"))[1])
    assert content_of(frames) == content_of(plain)


def test_early_close_drops_the_connection(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=early_close;stall_after=4", stream=True)
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("POST", f"{demo_provider.url}/chat/completions", json=body) as response,
    ):
        for piece in response.iter_raw():
            received += piece
    frames = parse_sse(bytes(received))
    assert "[DONE]" not in frames
    assert len(frames) == 5


def test_no_done_ends_cleanly_without_done(demo_provider: DemoProvider) -> None:
    response, raw = stream_frames(demo_provider.url, chat_body("fault;fault=no_done"))
    frames = parse_sse(raw)
    assert response.status_code == 200
    assert "[DONE]" not in frames
    assert frames[-1]["choices"][0]["finish_reason"] == "stop"


def test_inband_error_sends_an_error_event(demo_provider: DemoProvider) -> None:
    _, raw = stream_frames(demo_provider.url, chat_body("fault;fault=inband_error;stall_after=2"))
    frames = parse_sse(raw)
    assert frames[-1] == {
        "error": {
            "message": "The model is overloaded. Please try again later.",
            "type": "server_error",
            "param": None,
            "code": "overloaded",
        }
    }
    assert len(frames) == 4 and "[DONE]" not in frames


def test_no_usage_never_sends_usage(demo_provider: DemoProvider) -> None:
    body = chat_body("fault;fault=no_usage", stream_options={"include_usage": True})
    frames = parse_sse(stream_frames(demo_provider.url, body)[1])
    assert frames[-1] == "[DONE]"
    assert all(f["choices"] and f.get("usage") is None for f in frames[:-1])
    whole = post(demo_provider, chat_body("fault;fault=no_usage")).json()
    assert "usage" not in whole


def test_refuse_stream_options_like_some_providers(demo_provider: DemoProvider) -> None:
    model = "fault;fault=refuse_stream_options"
    refused = post(
        demo_provider, chat_body(model, stream=True, stream_options={"include_usage": True})
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "stream_options"
    response, raw = stream_frames(demo_provider.url, chat_body(model))
    assert response.status_code == 200 and parse_sse(raw)[-1] == "[DONE]"


def test_redirect_points_elsewhere(demo_provider: DemoProvider) -> None:
    answer = post(demo_provider, chat_body("fault;fault=redirect", stream=True))
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{demo_provider.root}/_demo/redirected"


@pytest.mark.parametrize(
    ("fault", "status"), [("rate_limit_once", 429), ("server_error_once", 500)]
)
def test_once_faults_fail_only_the_first_request(
    demo_provider: DemoProvider, fault: str, status: int
) -> None:
    model = f"fault;fault={fault};retry_after=0"
    prompt = unique("once")
    assert post(demo_provider, chat_body(model, prompt)).status_code == status
    assert post(demo_provider, chat_body(model, prompt)).status_code == 200
    assert post(demo_provider, chat_body(model, prompt)).status_code == 200
    assert post(demo_provider, chat_body(model, unique("other"))).status_code == status


def test_auth_wants_the_key_of_the_model_name(demo_provider: DemoProvider) -> None:
    model = "fault;fault=auth;key=sk-right"
    assert post(demo_provider, chat_body(model)).status_code == 401
    wrong = post(demo_provider, chat_body(model), headers={"Authorization": "Bearer sk-wrong"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    right = post(demo_provider, chat_body(model), headers={"Authorization": "Bearer sk-right"})
    assert right.status_code == 200


def test_the_fault_header_works_and_the_name_wins(demo_provider: DemoProvider) -> None:
    header = {"X-Demo-Fault": "server_error"}
    assert post(demo_provider, chat_body("fault"), headers=header).status_code == 500
    named = post(demo_provider, chat_body("fault;fault=rate_limit"), headers=header)
    assert named.status_code == 429


def test_faults_of_whole_answers(demo_provider: DemoProvider) -> None:
    malformed = post(demo_provider, chat_body("fault;fault=malformed"))
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    inband = post(demo_provider, chat_body("fault;fault=inband_error"))
    assert inband.json()["error"]["code"] == "overloaded"
    with pytest.raises(httpx.RemoteProtocolError):
        post(demo_provider, chat_body("fault;fault=early_close"))
    split = post(demo_provider, chat_body("fault;fault=split"))
    assert split.json()["choices"][0]["message"]["content"] == normal_text(demo_provider)


def test_leak_key_faults_echo_the_presented_key(demo_provider: DemoProvider) -> None:
    key = {"Authorization": "Bearer sk-Echo1234"}
    refused = post(demo_provider, chat_body("fault;fault=leak_key"), headers=key)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "sk-echo1234"
    body = chat_body("fault;fault=leak_key_inband;stall_after=2", stream=True)
    frames = parse_sse(stream_frames(demo_provider.url, body, key)[1])
    assert frames[-1]["error"]["type"] == "sk-echo1234"
    body = chat_body("fault;fault=leak_key_finish", stream=True)
    frames = parse_sse(stream_frames(demo_provider.url, body, key)[1])
    assert [f for f in frames if f != "[DONE]"][-1]["choices"][0]["finish_reason"] == (
        "sk-echo1234"
    )
