"""Tool calls, the way the demo provider makes them.

A request that offers ``tools`` (and does not set ``tool_choice`` to ``"none"``) gets,
unless its last message is a tool's result, a call of the chosen tool (the first one, or
the one ``tool_choice`` names) whose arguments fill each required string property with
the last user message; ``finish_reason`` is ``tool_calls``. A request whose last message
is a tool's result gets a text reply that quotes it. Deterministic, for tests.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from .replies import last_user_text, message_text

# Pieces the arguments are streamed in, as real providers split them.
ARGUMENT_PIECE = 8


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text

    def pieces(self) -> list[str]:
        text = self.arguments
        return [text[i : i + ARGUMENT_PIECE] for i in range(0, len(text), ARGUMENT_PIECE)]

    def message_part(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def _chosen(tools: list[Any], choice: Any) -> dict[str, Any] | None:
    functions = [
        t["function"]
        for t in tools
        if isinstance(t, dict)
        and isinstance(t.get("function"), dict)
        and t["function"].get("name")
    ]
    if not functions:
        return None
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return next((f for f in functions if f["name"] == wanted), functions[0])
    return functions[0]


def planned_call(body: dict[str, Any]) -> ToolCall | None:
    """The tool call this request gets, if any."""
    tools, choice = body.get("tools"), body.get("tool_choice")
    messages = body.get("messages") or []
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool":
        return None
    function = _chosen(tools, choice)
    if function is None:
        return None
    schema = function.get("parameters") or {}
    required = schema.get("required") or [] if isinstance(schema, dict) else []
    text = last_user_text(messages)
    arguments = json.dumps({name: text for name in required if isinstance(name, str)})
    digest = hashlib.sha256(f"{function['name']}:{arguments}".encode()).hexdigest()[:24]
    return ToolCall(id=f"call_{digest}", name=str(function["name"]), arguments=arguments)


def tool_result_reply(messages: list[Any]) -> str | None:
    """The reply to a request whose last message is a tool's result."""
    if messages and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool":
        return f"The tool answered: {message_text(messages[-1])}"
    return None
