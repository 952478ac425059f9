"""OpenAI's Chat Completions wire format: chunks, completions, errors, SSE framing.

Content chunks are built from a prefix and a suffix prepared once per reply, so a
stream of thousands of chunks costs one ``json.dumps`` of the token text each.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

DONE = "data: [DONE]\n\n"
FINGERPRINT = "fp_chatmore_demo"


def new_completion_id() -> str:
    return f"chatcmpl-{secrets.token_urlsafe(18)}"


def sse(obj: Any) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False, separators=(',', ':'))}\n\n"


def usage_object(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


class ChunkFormatter:
    """The SSE frames of one streamed reply (``chat.completion.chunk`` objects)."""

    def __init__(self, model: str, *, include_usage: bool) -> None:
        self.id = new_completion_id()
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage
        head = json.dumps(self._head(), ensure_ascii=False, separators=(",", ":"))
        self._prefix = f'data: {head[:-1]},"choices":[{{"index":0,"delta":{{"content":'
        # OpenAI puts "usage": null on every chunk but the last when usage is asked for.
        tail = ',"usage":null' if include_usage else ""
        self._suffix = f'}},"logprobs":null,"finish_reason":null}}]{tail}}}\n\n'

    def _head(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": FINGERPRINT,
        }

    def _frame(self, delta: dict[str, Any], finish_reason: str | None) -> str:
        obj = {
            **self._head(),
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if self.include_usage:
            obj["usage"] = None
        return sse(obj)

    def role(self) -> str:
        return self._frame({"role": "assistant", "content": ""}, None)

    def content(self, text: str) -> str:
        return self._prefix + json.dumps(text, ensure_ascii=False) + self._suffix

    def reasoning(self, text: str) -> str:
        return self._frame({"reasoning_content": text}, None)

    def tool_call_start(self, index: int, call_id: str, name: str) -> str:
        part = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        return self._frame({"role": "assistant", "content": None, "tool_calls": [part]}, None)

    def tool_call_arguments(self, index: int, piece: str) -> str:
        return self._frame(
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}, None
        )

    def finish(self, reason: str) -> str:
        return self._frame({}, reason)

    def usage(self, prompt_tokens: int, completion_tokens: int) -> str:
        return sse(
            {
                **self._head(),
                "choices": [],
                "usage": usage_object(prompt_tokens, completion_tokens),
            }
        )


def completion(
    model: str,
    text: str | None,
    finish_reason: str,
    usage: dict[str, int] | None,
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A whole ``chat.completion`` object (the non-streaming answer)."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": new_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
    }
    if usage is not None:
        body["usage"] = usage
    return body
