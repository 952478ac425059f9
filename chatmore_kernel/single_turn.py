"""``cm.ask()``: one prompt to several models, no widget; the turn's results come back.

The turn runs in the server like any other (a new conversation, one window per model);
this waits for it by following its event stream — resuming after the last event id if
the connection breaks — and then reads its rows from the results API.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from widgets.i18n import t

from .boards import TITLE_CHARS, create_conversation
from .catalog import ModelRef, window_specs
from .errors import ChatMoreError
from .http import ApiClient
from .result_frames import results_frame
from .sse import TurnStream, turn_events

RESUMES = 3


def wait_for_turn(
    api: ApiClient, turn_id: int, deadline: float, last: int | None = None
) -> dict[str, Any]:
    """Follow the turn's events after id ``last`` until ``done``; return that event's
    data."""
    failures = 0
    while True:
        try:
            for event in turn_events(api, turn_id, last, deadline=deadline):
                last = event["id"] if event["id"] is not None else last
                if event["event"] == "done":
                    return event["data"]
        except ChatMoreError as exc:
            retryable = exc.code in ("SERVER_UNREACHABLE", "BAD_RESPONSE") or (
                exc.status is not None and exc.status >= 500
            )
            failures += 1
            if not retryable or failures > RESUMES or time.monotonic() > deadline:
                raise
            time.sleep(0.2 * 2**failures)


def ask(
    api: ApiClient,
    prompt: str,
    models: ModelRef | Iterable[ModelRef | Mapping[str, Any]],
    params: Mapping[str, Any] | None = None,
    system_prompt: str | None = None,
    timeout: float = 120,
) -> pd.DataFrame:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ChatMoreError("VALIDATION_FAILED", t("error.prompt_empty"), 400)
    refs = [models] if isinstance(models, str | int) else list(models)
    windows = [m if isinstance(m, Mapping) else {"model": m} for m in refs]
    specs = window_specs(api, windows=windows, params=params)
    title = prompt.strip().splitlines()[0][:TITLE_CHARS]
    conversation = create_conversation(
        api, specs, title, system_prompt, metadata={"created_by": "cm.ask"}
    )
    deadline = time.monotonic() + timeout
    # One request starts the turn and streams it; should that connection break, the
    # stream is resumed after the last event seen. Its results are stored as "ask", told
    # apart from a board's (DESIGN §11).
    turn = TurnStream(api, conversation["id"], {"content": prompt, "source": "ask"}, deadline)
    try:
        try:
            done = any(event["event"] == "done" for event in turn.events())
        except ChatMoreError as exc:
            if turn.turn_id is None or exc.code not in ("SERVER_UNREACHABLE", "BAD_RESPONSE"):
                raise
            done = False
        turn_id = turn.turn_id
        assert turn_id is not None
        if not done:
            wait_for_turn(api, turn_id, deadline, turn.last_event_id)
    except ChatMoreError as exc:
        turn_id = turn.turn_id
        if turn_id is None:
            raise
        if exc.code == "TIMEOUT":
            # The turn would run on in the server; the caller gave up on it.
            with contextlib.suppress(ChatMoreError):
                api.post(f"api/turns/{turn_id}/cancel", {})
            raise ChatMoreError(
                "TIMEOUT", t("error.turn_timeout_cancelled", turn=turn_id, seconds=f"{timeout:g}")
            ) from None
        raise
    rows = results_frame(api, {"conversation_id": conversation["id"]}, text=True)
    return rows[rows["turn_id"] == turn_id].reset_index(drop=True)
