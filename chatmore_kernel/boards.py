"""``cm.board()``: a :class:`widgets.Board` on a new or a stored conversation.

A new board creates its conversation first (``POST api/conversations``); a reopened one
reads the conversation and each window's message chain (``GET
api/conversations/{id}/messages``, every page) into the board's ``history`` trait, so the
columns show what was said before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from widgets import Board
from widgets.i18n import t

from .backend import ServerBackend
from .catalog import ModelRef, window_specs
from .http import ApiClient

HISTORY_PAGE = 500  # the server's largest page of messages
TITLE_CHARS = 80


def default_title(windows: list[dict[str, Any]], names: Mapping[int, str]) -> str:
    """ "A vs B" (in the kernel's language), from the windows' names or models'."""
    shown = [w.get("name") or names.get(w["model_id"], "") for w in windows]
    return t("board.title_joiner").join(s for s in shown if s)[:TITLE_CHARS]


def create_conversation(
    api: ApiClient,
    windows: list[dict[str, Any]],
    title: str | None,
    system_prompt: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"windows": windows}
    if title:
        body["title"] = title[:300]
    if system_prompt:
        body["system_prompt"] = system_prompt
    if metadata:
        body["metadata"] = metadata
    return api.post("api/conversations", body)


def window_chains(api: ApiClient, conversation_id: int) -> dict[int, list[dict[str, Any]]]:
    """Each window's whole message chain, oldest first (paged backwards by message id)."""
    path = f"api/conversations/{conversation_id}/messages"
    first = api.get(path, limit=HISTORY_PAGE)
    chains: dict[int, list[dict[str, Any]]] = {}
    for window in first["windows"]:
        messages = list(window["messages"])
        before = window.get("next_before")
        while before:
            page = api.get(path, window_id=window["window_id"], before=before, limit=HISTORY_PAGE)
            older = page["windows"][0]
            messages = older["messages"] + messages
            before = older.get("next_before")
        chains[window["window_id"]] = messages
    return chains


def exchanges_of(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A window's chain as the board's exchanges (``widgets/history.py``)."""
    exchanges: dict[int, dict[str, Any]] = {}
    for message in messages:
        turn_id = message.get("turn_id")
        if turn_id is None or message.get("role") not in ("user", "assistant"):
            continue
        exchange = exchanges.setdefault(turn_id, {"turn_id": turn_id, "prompt": "", "reply": ""})
        if message["role"] == "user":
            exchange["prompt"] = message.get("content") or ""
            exchange["replaces_turn_id"] = message.get("replaces_turn_id")
            continue
        result = message.get("result") or {}
        code = result.get("error_code")
        exchange.update(
            reply=message.get("content") or "",
            status=result.get("status") or "failed",
            error={"code": code, "message": result.get("error_message") or ""} if code else None,
            finish_reason=result.get("finish_reason"),
            ttft_ms=result.get("ttft_ms"),
            latency_ms=result.get("latency_ms"),
            prompt_tokens=result.get("prompt_tokens"),
            completion_tokens=result.get("completion_tokens"),
            tokens_per_second=result.get("tokens_per_second"),
            cost=result.get("cost"),
        )
    return list(exchanges.values())


def board_windows(
    windows: Iterable[Mapping[str, Any]], models: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The conversation's windows as the board shows them: each with the currency of its
    model's prices (null without prices), so that a column can show what a reply cost."""
    currency = {m["id"]: (m.get("pricing") or {}).get("currency") for m in models}
    return [{**w, "currency": currency.get(w["model_id"])} for w in windows]


def history_of(api: ApiClient, conversation_id: int) -> dict[str, list[dict[str, Any]]]:
    return {
        str(window_id): exchanges_of(chain)
        for window_id, chain in window_chains(api, conversation_id).items()
    }


def open_board(
    api: ApiClient,
    *,
    models: ModelRef | Iterable[ModelRef] | None,
    windows: Iterable[Mapping[str, Any]] | None,
    conversation: int | None,
    title: str | None,
    height: int,
    transport: str,
    blind: bool = False,
) -> Board:
    catalog = api.get("api/models")["models"]
    if conversation is not None:
        if models is not None or windows is not None:
            raise TypeError("give conversation= to reopen one, or models=/windows=, not both")
        stored = api.get(f"api/conversations/{conversation}")
        history = history_of(api, stored["id"])
    else:
        specs = window_specs(api, models=models, windows=windows)
        names = {m["id"]: m["name"] for m in catalog}
        # A blind board's title must not name its models.
        fallback = t("board.title_blind") if blind else default_title(specs, names)
        stored = create_conversation(api, specs, title or fallback)
        history = {}
    return Board(
        ServerBackend(api, stored["id"]),
        windows=board_windows(stored["windows"], catalog),
        history=history,
        conversation_id=stored["id"],
        title=title if title is not None else stored.get("title") or "",
        height=height,
        transport=transport,
        blind=blind,
    )
