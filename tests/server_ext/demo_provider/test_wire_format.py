"""The demo provider speaks OpenAI's Chat Completions exactly: stream frames, whole
answers, usage, errors and the model list, read with a plain HTTP client."""

from __future__ import annotations

import httpx

from server_ext.demo_provider import DEMO_MODELS
from server_ext.demo_provider.presets import PRESETS
from tests.support.providers import DemoProvider, chat_body, content_of, parse_sse, stream_frames


def test_a_stream_is_shaped_like_openai(demo_provider: DemoProvider) -> None:
    model = "wire-shape"
    response, raw = stream_frames(
        demo_provider.url, chat_body(model, stream_options={"include_usage": True})
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = parse_sse(raw)
    assert frames[-1] == "[DONE]"
    chunks = frames[:-1]
    first, *contents, finish, usage = chunks
    ids = {c["id"] for c in chunks}
    assert len(ids) == 1 and ids.pop().startswith("chatcmpl-")
    for chunk in chunks:
        assert chunk["object"] == "chat.completion.chunk"
        assert isinstance(chunk["created"], int)
        assert chunk["model"] == model
    for chunk in [first, *contents, finish]:
        assert chunk["usage"] is None  # as OpenAI does when usage is asked for
        (choice,) = chunk["choices"]
        assert choice["index"] == 0 and choice["logprobs"] is None
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert first["choices"][0]["finish_reason"] is None
    assert contents
    for chunk in contents:
        choice = chunk["choices"][0]
        assert set(choice["delta"]) == {"content"} and choice["delta"]["content"]
        assert choice["finish_reason"] is None
    assert finish["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert usage["choices"] == []
    counts = usage["usage"]
    assert counts["completion_tokens"] == len(contents)
    assert counts["prompt_tokens"] > 0
    assert counts["total_tokens"] == counts["prompt_tokens"] + counts["completion_tokens"]


def test_usage_comes_only_when_asked_for(demo_provider: DemoProvider) -> None:
    _, raw = stream_frames(demo_provider.url, chat_body("wire-no-usage"))
    frames = parse_sse(raw)
    assert frames[-1] == "[DONE]"
    for chunk in frames[:-1]:
        assert "usage" not in chunk
        assert chunk["choices"], "no usage chunk without include_usage"
    assert frames[-2]["choices"][0]["finish_reason"] == "stop"


def test_prompt_tokens_count_the_messages(demo_provider: DemoProvider) -> None:
    def prompt_tokens(prompt: str) -> int:
        body = chat_body("wire-prompt", prompt, stream_options={"include_usage": True})
        return parse_sse(stream_frames(demo_provider.url, body)[1])[-2]["usage"]["prompt_tokens"]

    short, longer = prompt_tokens("Hello there"), prompt_tokens("Hello there " * 20)
    assert 0 < short < longer


def test_a_whole_answer_when_not_streaming(demo_provider: DemoProvider) -> None:
    body = chat_body("wire-whole")
    answer = httpx.post(f"{demo_provider.url}/chat/completions", json=body, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    assert data["id"].startswith("chatcmpl-")
    assert data["object"] == "chat.completion"
    assert data["model"] == "wire-whole"
    (choice,) = data["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    streamed = content_of(parse_sse(stream_frames(demo_provider.url, body)[1]))
    assert choice["message"]["content"] == streamed
    usage = data["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_errors_have_openai_shape(demo_provider: DemoProvider) -> None:
    url = f"{demo_provider.url}/chat/completions"
    cases = [
        (b"{not json", 400),
        (b'{"model": "m"}', 400),
        (b'{"model": "m;fault=nonsense", "messages": [{"role": "user", "content": "x"}]}', 400),
        (b'{"model": "m;speed=3", "messages": [{"role": "user", "content": "x"}]}', 400),
        (b'{"model": "m;tokens=100001", "messages": [{"role": "user", "content": "x"}]}', 400),
        (b'{"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0}', 400),
    ]
    for body, status in cases:
        answer = httpx.post(url, content=body, timeout=10)
        assert answer.status_code == status, body
        error = answer.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"
    missing = httpx.get(f"{demo_provider.root}/v1/nowhere", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "unknown_url"


def test_models_lists_the_presets(demo_provider: DemoProvider) -> None:
    answer = httpx.get(f"{demo_provider.url}/models", timeout=10).json()
    assert answer["object"] == "list"
    ids = [m["id"] for m in answer["data"]]
    assert ids == list(PRESETS)
    assert all(m["object"] == "model" for m in answer["data"])
    # The quick start registers exactly these, each with a distinct pace.
    assert [m["upstream_model"] for m in DEMO_MODELS] == ids
    assert len({PRESETS[m["upstream_model"]].tps for m in DEMO_MODELS}) == 3
    for model in DEMO_MODELS:
        assert set(model) == {"name", "upstream_model", "notes", "default_params"}
        assert model["notes"]
