"""``cm.results()`` reads Arrow pages; the JSON pages other clients read give the very
same DataFrame: nulls, unicode, times, params, categories, the source of each call, the
turn a retry replaced."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import update

from chatmore_kernel import result_frames
from server_ext.store.db import Database
from server_ext.store.tables import turn_results
from tests.chatmore_kernel.conftest import Accounts, DemoModels

AWKWARD = 'naïve 世界 🎉, "quoted", a comma,\nand a newline'


def json_frame(session, text: bool, page_size: int) -> pd.DataFrame:
    """The DataFrame as built from the JSON pages, page by page."""
    api = session._api  # the format other clients read, on purpose
    pages, after = [], 0
    while after is not None:
        query = {"after_id": after, "limit": page_size, "text": str(text).lower()}
        page = result_frames._decode(api.request("GET", "api/results", params=query).content)
        pages.append(page)
        after = page["next_after_id"]
    return result_frames.frame_from_pages(pages, text)


def test_arrow_and_json_give_equal_frames(
    accounts: Accounts, demo_models: DemoModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = accounts.user
    # Nulls (a failing model reports no tokens nor TTFT), unicode and separators in text,
    # a window's params over its model's defaults, two conversations.
    first = user.ask(AWKWARD, [demo_models.swift, demo_models.scholar, demo_models.failing])
    user.ask("plain", [demo_models.swift, demo_models.scholar])
    again = user.ask("again", [demo_models.scholar])
    # Its retry, as a board's Retry sends it: a turn that names the turn it replaced.
    board = user.board(conversation=int(again["conversation_id"].iloc[0]))
    board.retry(board.windows[0]["id"])
    assert board.wait(timeout=60)
    board.close()
    # A call recorded by the gateway (which writes its source so): stands in for it here.
    db = Database(accounts.server.env["CHATMORE_DB_URL"], threads=1)
    try:
        gateway_id = int(first["result_id"].iloc[0])
        db.write_sync(
            lambda conn: conn.execute(
                update(turn_results)
                .where(turn_results.c.id == gateway_id)
                .values(source="gateway")
            )
        )
    finally:
        db.close()

    for page_size in (100_000, 2):  # one page, then dictionaries that differ page by page
        monkeypatch.setattr(result_frames, "PAGE_SIZE", page_size)
        for text in (True, False):
            arrow = user.results(text=text)
            pd.testing.assert_frame_equal(arrow, json_frame(user, text, min(page_size, 10_000)))

    df = user.results()
    assert len(df) == 7
    retry = df.iloc[-1]
    assert retry["replaces_turn_id"] == again["turn_id"].iloc[0] and retry["source"] == "board"
    assert df["replaces_turn_id"].iloc[:-1].isna().all()
    assert df.loc[df["result_id"] == gateway_id, "source"].tolist() == ["gateway"]
    assert set(df["source"]) == {"ask", "board", "gateway"}
    assert df["prompt"].iloc[0] == AWKWARD
    failed = df[df["status"] == "failed"]
    assert len(failed) == 1 and failed["ttft_ms"].isna().all()
    assert failed["error_code"].notna().all() and failed["finish_reason"].isna().all()
    assert df["created_at"].dt.tz is not None and df["finished_at"].notna().all()
    assert (df["created_at"] <= df["finished_at"]).all()
    scholar = df[df["model"] == demo_models.scholar]
    assert scholar["params"].map(lambda p: p.get("temperature")).tolist() == [0.7] * 4


def test_empty_results_are_equal_too(accounts: Accounts) -> None:
    for text in (True, False):
        pd.testing.assert_frame_equal(
            accounts.user.results(text=text), json_frame(accounts.user, text, 10_000)
        )
