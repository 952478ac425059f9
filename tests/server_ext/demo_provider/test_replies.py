"""Demo replies: readable Markdown, the same for the same request, different across
prompts, models and temperatures; max_tokens, tokens, echo and pace as asked."""

from __future__ import annotations

import re
import time

import httpx

from server_ext.demo_provider.presets import PRESETS
from server_ext.demo_provider.replies import stress_document
from tests.support.providers import DemoProvider, chat_body, content_of, parse_sse, stream_frames


def reply(provider: DemoProvider, model: str, prompt: str = "How do I join tables in SQL?", **kw):
    frames = parse_sse(stream_frames(provider.url, chat_body(model, prompt, **kw))[1])
    return content_of(frames), frames


def test_a_reply_is_markdown_with_a_list_and_code(demo_provider: DemoProvider) -> None:
    for model in [*PRESETS, "any-other-name"]:
        text, _ = reply(demo_provider, f"{model};tps=0;ttft_ms=0")
        first_line = text.splitlines()[0]
        assert first_line.startswith(("#", "**")) or first_line.endswith((".", ":")), text
        assert len(re.findall(r"^- \S", text, re.M)) >= 3, text
        assert re.search(r"^```[a-z]+\n.+?\n```$", text, re.M | re.S), text


def test_the_same_request_gets_the_same_reply(demo_provider: DemoProvider) -> None:
    first, _ = reply(demo_provider, "det", temperature=0.7)
    again, _ = reply(demo_provider, "det", temperature=0.7)
    assert first == again


def test_replies_vary_with_prompt_model_and_temperature(demo_provider: DemoProvider) -> None:
    base, _ = reply(demo_provider, "vary", temperature=0.7)
    other_prompt, _ = reply(demo_provider, "vary", "Explain Python generators", temperature=0.7)
    other_model, _ = reply(demo_provider, "vary-two", temperature=0.7)
    sweep = {reply(demo_provider, "vary", temperature=t)[0] for t in (0.0, 0.4, 0.8, 1.2, 1.6)}
    assert len({base, other_prompt, other_model}) == 3
    assert len(sweep) == 5, "each temperature of a sweep gets its own reply"
    assert "Python" in other_prompt


def test_options_do_not_change_the_words(demo_provider: DemoProvider) -> None:
    plain, _ = reply(demo_provider, "words")
    paced, _ = reply(demo_provider, "words;tps=0;ttft_ms=0;stall_after=3")
    assert plain == paced


def test_max_tokens_cuts_the_reply(demo_provider: DemoProvider) -> None:
    full, _ = reply(demo_provider, "cut")
    text, frames = reply(
        demo_provider, "cut", max_tokens=7, stream_options={"include_usage": True}
    )
    contents = [f for f in frames[:-1] if f["choices"] and f["choices"][0]["delta"].get("content")]
    assert len(contents) == 7
    assert full.startswith(text) and len(text) < len(full)
    assert frames[-3]["choices"][0]["finish_reason"] == "length"
    assert frames[-2]["usage"]["completion_tokens"] == 7


def test_tokens_option_sets_the_length(demo_provider: DemoProvider) -> None:
    _, frames = reply(demo_provider, "long;tokens=1200")
    contents = [f for f in frames[:-1] if f["choices"] and f["choices"][0]["delta"].get("content")]
    assert len(contents) == 1200
    assert frames[-2]["choices"][0]["finish_reason"] == "stop"


def test_echo_returns_the_last_user_message_verbatim(demo_provider: DemoProvider) -> None:
    hostile = '<img src=x onerror="alert(1)"> [x](javascript:alert(2))\n\n<script>bad()</script>'
    body = {
        "model": "echo-test;echo",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": hostile},
        ],
    }
    frames = parse_sse(stream_frames(demo_provider.url, body)[1])
    assert content_of(frames) == hostile
    whole = httpx.post(f"{demo_provider.url}/chat/completions", json=body, timeout=10).json()
    assert whole["choices"][0]["message"]["content"] == hostile


def test_tps_and_ttft_set_the_pace(demo_provider: DemoProvider) -> None:
    body = chat_body("pace;tps=50;ttft_ms=300;tokens=20", stream=True)
    started = time.monotonic()
    first_content = None
    with httpx.stream("POST", f"{demo_provider.url}/chat/completions", json=body) as response:
        for line in response.iter_lines():
            if first_content is None and '"content":"' in line and '"role"' not in line:
                first_content = time.monotonic() - started
    total = time.monotonic() - started
    assert first_content is not None and first_content >= 0.3
    assert total >= 0.3 + 19 / 50


def test_a_stress_document_echoed_with_tokens_is_that_long_with_its_code_and_tables(
    demo_provider: DemoProvider,
) -> None:
    document = stress_document(3000, code_blocks=5, tables=4)
    body = {
        "model": "stress;echo;tokens=3000;tps=0",
        "messages": [{"role": "user", "content": document}],
    }
    frames = parse_sse(stream_frames(demo_provider.url, body)[1])
    contents = [f for f in frames[:-1] if f["choices"] and f["choices"][0]["delta"].get("content")]
    assert len(contents) == 3000
    text = content_of(frames)
    assert text.startswith(document[:2000])
    assert len(re.findall(r"^```\w+$", text, re.M)) == 5
    assert len(re.findall(r"^\| region \|", text, re.M)) == 4
    # Numbers a narrow column must not break: thousands separators and decimals.
    assert re.search(r"\| \d{1,3}(,\d{3})+ \|", text)
