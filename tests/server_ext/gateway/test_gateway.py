"""The gateway driven by the official ``openai`` SDK against a real server and the demo
provider: streamed and whole answers, sync and async, tool calls and reasoning passed
through, every call then found in ``cm.results()`` with its source, tokens and timings;
refusals in OpenAI's shape."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import openai
import pytest

import chatmore_kernel as cm
from tests.server_ext.gateway.conftest import Gateway, add_model
from tests.support.api import PASSWORD, make_conversation, new_client, send, wait_turn
from tests.support.providers import DemoProvider

HELLO = [{"role": "user", "content": "Say hello to the gateway"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather of a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def results_of(gateway: Gateway):
    with cm.Session(gateway.server.base_url, gateway.user.email, PASSWORD) as session:
        return session.results()


def wait_results(gateway: Gateway, count: int):
    deadline = time.monotonic() + 30
    while True:
        frame = results_of(gateway)
        done = frame[frame["status"].isin(["succeeded", "failed", "cancelled"])]
        if len(done) >= count or time.monotonic() > deadline:
            return frame
        time.sleep(0.1)


def test_streamed_and_whole_answers_are_recorded(gateway: Gateway) -> None:
    sdk = gateway.sdk()
    stream = sdk.chat.completions.create(
        model=gateway.model,
        messages=HELLO,
        stream=True,
        stream_options={"include_usage": True},
        temperature=0.3,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage is not None and chunks[-1].choices == []
    assert chunks[-2].choices[0].finish_reason == "stop"
    whole = sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    assert whole.choices[0].message.content and whole.usage.completion_tokens > 0

    frame = wait_results(gateway, 2)
    assert list(frame["source"]) == ["gateway", "gateway"]
    assert list(frame["status"]) == ["succeeded", "succeeded"]
    assert list(frame["reply"]) == [text, whole.choices[0].message.content]
    assert list(frame["model"]) == [gateway.model, gateway.model]
    assert list(frame["prompt"]) == [HELLO[0]["content"]] * 2
    assert frame["completion_tokens"].tolist() == [
        chunks[-1].usage.completion_tokens,
        whole.usage.completion_tokens,
    ]
    assert frame["prompt_tokens"].notna().all() and frame["latency_ms"].notna().all()
    assert frame["ttft_ms"].notna().tolist() == [True, False]  # no first token unstreamed
    assert list(frame["finish_reason"]) == ["stop", "stop"]
    # One conversation per key per UTC day, named after the key.
    assert frame["conversation_id"].nunique() == 1
    assert frame["conversation"].iloc[0].startswith("Gateway · laptop · ")
    key = gateway.user.get("api/keys").json()["keys"][0]
    assert key["last_used_at"] is not None


def test_the_request_fields_go_upstream_over_the_model_defaults(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    admin = new_client(server, "admin")
    model_id = next(
        m["id"] for m in admin.get("api/models").json()["models"] if m["name"] == gateway.model
    )
    admin.patch(
        f"api/models/{model_id}", json={"default_params": {"temperature": 0.9, "top_p": 0.5}}
    )
    time.sleep(2.1)  # the gateway trusts a model's row for two seconds
    demo_provider.clear()
    gateway.sdk().chat.completions.create(
        model=gateway.model, messages=HELLO, temperature=0.1, seed=7, stop=["zzz"], user="u-1"
    )
    sent = [r for r in demo_provider.requests() if r["body"]["model"] == "demo-swift;tps=0"][-1]
    body = sent["body"]
    assert body["temperature"] == 0.1 and body["top_p"] == 0.5
    assert body["seed"] == 7 and body["stop"] == ["zzz"] and body["user"] == "u-1"
    assert body["messages"] == HELLO


def test_async_sdk_streams_in_parallel(gateway: Gateway) -> None:
    async def run() -> list[str]:
        sdk = gateway.async_sdk()

        async def one(i: int) -> str:
            stream = await sdk.chat.completions.create(
                model=gateway.model,
                messages=[{"role": "user", "content": f"Question {i}"}],
                stream=True,
            )
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return "".join(parts)

        try:
            return await asyncio.gather(*(one(i) for i in range(4)))
        finally:
            await sdk.close()

    replies = asyncio.run(run())
    frame = wait_results(gateway, 4)
    assert sorted(frame["reply"]) == sorted(replies)
    assert set(frame["source"]) == {"gateway"} and set(frame["status"]) == {"succeeded"}
    # Usage is recorded even though the client did not ask for it.
    assert frame["completion_tokens"].notna().all() and frame["ttft_ms"].notna().all()


@pytest.mark.parametrize("stream", [True, False])
def test_a_tool_call_round_trip(gateway: Gateway, stream: bool) -> None:
    sdk = gateway.sdk()
    messages = [{"role": "user", "content": "Paris"}]
    if stream:
        chunks = list(
            sdk.chat.completions.create(
                model=gateway.model, messages=messages, tools=[WEATHER_TOOL], stream=True
            )
        )
        parts = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
        call_id, name = parts[0].id, parts[0].function.name
        arguments = "".join(p.function.arguments or "" for p in parts)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    else:
        answer = sdk.chat.completions.create(
            model=gateway.model, messages=messages, tools=[WEATHER_TOOL]
        )
        call = answer.choices[0].message.tool_calls[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
        finish = answer.choices[0].finish_reason
    assert name == "get_weather" and json.loads(arguments) == {"city": "Paris"}
    assert finish == "tool_calls"
    messages += [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call_id, "content": "sunny, 21 C"},
    ]
    final = sdk.chat.completions.create(
        model=gateway.model, messages=messages, tools=[WEATHER_TOOL]
    )
    assert final.choices[0].message.content == "The tool answered: sunny, 21 C"

    frame = wait_results(gateway, 2)
    assert list(frame["finish_reason"]) == ["tool_calls", "stop"]
    assert list(frame["source"]) == ["gateway", "gateway"]
    turn = gateway.user.get(f"api/turns/{frame['turn_id'].iloc[0]}").json()
    assert turn["results"][0]["status"] == "succeeded"
    # The request is stored as the client sent it, tools included.
    assert turn["request"]["tools"] == [WEATHER_TOOL]
    assert turn["request"]["messages"] == [{"role": "user", "content": "Paris"}]
    last = gateway.user.get(f"api/turns/{frame['turn_id'].iloc[1]}").json()
    assert last["request"]["messages"][-1]["role"] == "tool"


def test_reasoning_deltas_and_the_wire_format_pass_through(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    model = add_model(server, demo_provider, "demo-swift;tps=0;reasoning=4")
    body = {"model": model, "messages": HELLO, "stream": True}
    headers = {"Authorization": f"Bearer {gateway.key['key']}"}
    with httpx.stream("POST", gateway.url + "/chat/completions", json=body, headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    frames = raw.split("\n\n")
    assert frames[-1] == "" and frames[-2] == "data: [DONE]"
    events = [json.loads(f.removeprefix("data: ")) for f in frames[:-2]]
    assert all(f.startswith("data: ") for f in frames[:-1])
    assert {e["object"] for e in events} == {"chat.completion.chunk"}
    reasoning = [e["choices"][0]["delta"].get("reasoning_content") for e in events]
    assert sum(1 for r in reasoning if r) == 4
    # Without include_usage the client gets no usage chunk, though ChatMore asked for one.
    assert all(e["choices"] for e in events)


def test_refusals_answer_the_openai_way(gateway: Gateway, server) -> None:
    sdk = gateway.sdk()
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk.chat.completions.create(model="no-such-model", messages=HELLO)
    assert unknown.value.code == "model_not_found"
    assert unknown.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as many:
        sdk.chat.completions.create(model=gateway.model, messages=HELLO, n=2)
    assert many.value.body["param"] == "n"
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=gateway.model, messages=[])
    with pytest.raises(openai.AuthenticationError) as bad:
        gateway.sdk(key="cm-not-a-key").models.list()
    assert bad.value.code == "invalid_api_key"
    # Another user's conversation, named by id, is not found.
    other = new_client(server)
    other_key = other.post("api/keys", json={"name": "o"}).json()["key"]
    mine = gateway.sdk().chat.completions.with_raw_response.create(
        model=gateway.model, messages=HELLO
    )
    conversation_id = mine.headers["X-ChatMore-Conversation-Id"]
    with pytest.raises(openai.NotFoundError) as foreign:
        gateway.sdk(key=other_key).chat.completions.create(
            model=gateway.model,
            messages=HELLO,
            extra_headers={"X-ChatMore-Conversation": conversation_id},
        )
    assert foreign.value.code == "conversation_not_found"
    # Refused calls leave no rows; only the one call that went through is recorded.
    assert len(wait_results(gateway, 1)) == 1
    with cm.Session(server.base_url, other.email, PASSWORD) as session:
        assert session.results().empty


def test_revoked_and_expired_keys_are_refused(gateway: Gateway) -> None:
    user = gateway.user
    assert [m.id for m in gateway.sdk().models.list()].count(gateway.model) == 1
    user.http.delete(f"api/keys/{gateway.key['id']}", headers=user.auth)
    with pytest.raises(openai.AuthenticationError) as revoked:
        gateway.sdk().chat.completions.create(model=gateway.model, messages=HELLO)
    assert revoked.value.code == "invalid_api_key" and "revoked" in revoked.value.message
    short = user.post("api/keys", json={"name": "short", "expires_in_days": 1 / 86400}).json()
    time.sleep(1.2)
    with pytest.raises(openai.AuthenticationError) as expired:
        gateway.sdk(key=short["key"]).models.list()
    assert "expired" in expired.value.message
    assert [k["state"] for k in user.get("api/keys").json()["keys"]] == ["expired", "revoked"]


def test_titles_group_calls_into_their_own_conversation(gateway: Gateway) -> None:
    sdk = gateway.sdk()
    for _ in range(2):
        sdk.chat.completions.create(
            model=gateway.model,
            messages=HELLO,
            extra_headers={"X-ChatMore-Conversation": "nightly eval"},
        )
    sdk.chat.completions.create(model=gateway.model, messages=HELLO)
    frame = wait_results(gateway, 3)
    titles = frame.groupby("conversation")["result_id"].count().to_dict()
    assert titles["nightly eval"] == 2 and len(titles) == 2


def test_upstream_failures_are_recorded_with_their_partial_text(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    broken = add_model(server, demo_provider, "demo-swift;tps=0;fault=inband_error;stall_after=3")
    down = add_model(server, demo_provider, "demo-swift;fault=server_error")
    sdk = gateway.sdk()
    with pytest.raises(openai.APIError):
        for _ in sdk.chat.completions.create(model=broken, messages=HELLO, stream=True):
            pass
    with pytest.raises(openai.InternalServerError) as refused:
        sdk.chat.completions.create(model=down, messages=HELLO)
    assert refused.value.status_code == 502 and refused.value.code == "upstream_error"
    frame = wait_results(gateway, 2)
    assert list(frame["status"]) == ["failed", "failed"]
    assert list(frame["error_code"]) == ["PROVIDER_BAD_RESPONSE", "PROVIDER_HTTP_ERROR"]
    assert frame["reply"].iloc[0]  # the three tokens before the fault


# A provider's refusal -> ChatMore's code, the SDK's error, status and code the client sees.
REFUSALS = [
    ("context_length", "PROVIDER_CONTEXT_TOO_LONG", openai.BadRequestError, 400,
     "context_length_exceeded"),
    ("quota", "PROVIDER_QUOTA_EXCEEDED", openai.RateLimitError, 429, "upstream_quota_exceeded"),
    ("rate_limit;retry_after=30", "PROVIDER_RATE_LIMITED", openai.RateLimitError, 429,
     "upstream_rate_limited"),
    ("model_not_found", "PROVIDER_MODEL_NOT_FOUND", openai.InternalServerError, 502,
     "upstream_model_not_found"),
    ("auth;key=sk-other", "PROVIDER_AUTH_FAILED", openai.InternalServerError, 502,
     "upstream_auth_failed"),
]  # fmt: skip


def test_a_refusal_means_the_same_through_the_gateway_as_on_the_board(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    """One answer of a provider gets one code and one message, whichever way it was
    called; the gateway's client hears it the way OpenAI's SDKs understand."""
    admin = new_client(server, "admin")
    names = [add_model(server, demo_provider, f"demo-swift;fault={f}") for f, *_ in REFUSALS]
    sdk = gateway.sdk()
    for name, (fault, _code, error_type, status, openai_code) in zip(names, REFUSALS, strict=True):
        for stream in (False, True):
            with pytest.raises(error_type) as refused:
                sdk.chat.completions.create(model=name, messages=HELLO, stream=stream)
            assert (refused.value.status_code, refused.value.code) == (status, openai_code), fault
            assert "Traceback" not in refused.value.message
    frame = wait_results(gateway, 2 * len(REFUSALS))
    gateway_codes = frame.sort_values("result_id")["error_code"].tolist()
    assert gateway_codes == [code for _, code, *_ in REFUSALS for _ in (0, 1)]
    # The same models in one board turn: the same codes and messages.
    by_name = {m["name"]: m["id"] for m in admin.get("api/models").json()["models"]}
    conversation = make_conversation(gateway.user, [by_name[n] for n in names])
    turn = wait_turn(gateway.user, send(gateway.user, conversation["id"], "Hello")["turn_id"])
    windows = [w["id"] for w in conversation["windows"]]
    board = {r["window_id"]: r for r in turn["results"]}
    gateway_messages = frame.sort_values("result_id")["error_message"].tolist()[::2]
    for window, (fault, code, *_), message in zip(
        windows, REFUSALS, gateway_messages, strict=True
    ):
        assert (board[window]["status"], board[window]["error_code"]) == ("failed", code), fault
        assert board[window]["error_message"] == message, fault


def test_a_client_that_hangs_up_leaves_a_cancelled_result(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    slow = add_model(server, demo_provider, "demo-swift;tps=20;tokens=200")
    stream = gateway.sdk().chat.completions.create(model=slow, messages=HELLO, stream=True)
    for i, _chunk in enumerate(stream):
        if i == 3:
            break
    stream.close()
    frame = wait_results(gateway, 1)
    assert list(frame["status"]) == ["cancelled"] and list(frame["error_code"]) == ["CANCELLED"]


def test_stats_tell_gateway_calls_apart(gateway: Gateway) -> None:
    gateway.sdk().chat.completions.create(model=gateway.model, messages=HELLO)
    wait_results(gateway, 1)
    with cm.Session(gateway.server.base_url, gateway.user.email, PASSWORD) as session:
        through = session.stats(source="gateway")
        assert list(through["model_name"]) == [gateway.model]
        assert list(through["calls"]) == [1]
        assert session.stats(source="board").empty
    refused = gateway.user.get("api/stats/usage?source=elsewhere")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "VALIDATION_FAILED"


def test_a_long_stream_is_checkpointed_while_it_runs(
    gateway: Gateway, server, demo_provider: DemoProvider
) -> None:
    slow = add_model(server, demo_provider, "demo-swift;tps=25;tokens=100")
    body = {"model": slow, "messages": HELLO, "stream": True}
    headers = {"Authorization": f"Bearer {gateway.key['key']}"}
    with httpx.stream(
        "POST", gateway.url + "/chat/completions", json=body, headers=headers, timeout=30
    ) as response:
        turn_id = int(response.headers["X-ChatMore-Turn-Id"])
        lines = response.iter_lines()
        next(lines)
        deadline = time.monotonic() + 10
        while True:  # the stored reply grows while the call streams (about once a second)
            turn = gateway.user.get(f"api/turns/{turn_id}").json()
            result = turn["results"][0]
            if result["reply"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert result["status"] == "streaming" and result["reply"]
        rest = "".join(lines)
    assert rest.endswith("data: [DONE]")
    frame = wait_results(gateway, 1)
    assert frame["completion_tokens"].tolist() == [100]
    assert len(frame["reply"].iloc[0]) > len(result["reply"])
