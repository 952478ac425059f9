"""``cm.run()``, ``cm.replay()`` and the experiment handle against a real server and the
demo provider's process, on SQLite and MariaDB."""

from __future__ import annotations

import _thread
import threading
import time

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select

import chatmore_kernel as cm
from server_ext.store.tables import turn_results
from tests.chatmore_kernel.conftest import Accounts, DemoModels, register
from tests.support.providers import DemoProvider

PRICES = {"input": 3.0, "output": 15.0, "currency": "USD"}


def stored(accounts: Accounts, experiment_id: int) -> int:
    engine = create_engine(accounts.server.env["CHATMORE_DB_URL"])
    try:
        with engine.connect() as conn:
            return conn.execute(
                select(func.count()).where(turn_results.c.experiment_id == experiment_id)
            ).scalar_one()
    finally:
        engine.dispose()


def test_a_dataframe_through_a_template_and_a_grid(
    accounts: Accounts, demo_models: DemoModels, demo_provider: DemoProvider
) -> None:
    priced = register(accounts.admin, demo_provider, "demo-swift;tps=0", pricing=PRICES)
    data = pd.DataFrame(
        {
            "text": ["cat", "dog", "bird"],
            "lang": ["French", "German", "Italian"],
            "expected": ["chat", "Hund", "uccello"],
        }
    )
    run = accounts.user.run(
        data,
        [priced, demo_models.scholar],
        grid={"temperature": [0, 0.7]},
        template="Translate {text} to {lang}",
        name="translations",
        progress=False,
    )
    assert run.status == "finished"
    rows = run.results()
    assert len(rows) == 3 * 2 * 2  # prompts × (models × grid) × samples
    assert list(rows.columns[:5]) == ["case", "text", "lang", "expected", "prompt"]
    assert set(rows["prompt"]) == {
        "Translate cat to French",
        "Translate dog to German",
        "Translate bird to Italian",
    }
    assert (rows["status"] == "succeeded").all()
    assert rows["reply"].str.len().gt(0).all()
    assert {p["temperature"] for p in rows["params"]} == {0, 0.7}
    assert rows["window"].nunique() == 4
    mine = rows[rows["model"] == priced]
    expected = (mine["prompt_tokens"] * 3.0 + mine["completion_tokens"] * 15.0) / 1e6
    assert mine["cost"].to_numpy() == pytest.approx(expected.astype(float).to_numpy())
    assert rows.loc[rows["model"] == demo_models.scholar, "cost"].isna().all()
    assert rows["latency_ms"].notna().all() and rows["result_id"].notna().all()

    matrix = run.matrix()
    assert matrix.shape == (3, 4)
    assert matrix.index.get_level_values("prompt")[0] == "Translate cat to French"
    assert run.matrix("status").eq("succeeded").all().all()

    listed = accounts.user.experiments()
    assert listed.loc[listed["id"] == run.id, "succeeded"].item() == 12
    assert accounts.user.experiment(run.id).results()["result_id"].equals(rows["result_id"])
    every = accounts.user.results()
    assert (every.loc[every["experiment_id"] == run.id, "source"] == "experiment").all()


def test_interrupt_keeps_what_finished_and_resume_completes(
    accounts: Accounts, demo_provider: DemoProvider
) -> None:
    slow = register(accounts.admin, demo_provider, "demo-swift;ttft_ms=200;tps=0")
    # A KeyboardInterrupt in this thread, as the kernel's stop button raises it.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        run = accounts.user.run([f"question {i}" for i in range(20)], slow, concurrency=2)
    finally:
        timer.cancel()
    assert run.status == "cancelled"
    partial = run.results()
    assert len(partial) == 20
    counts = partial["status"].value_counts()
    assert 0 < counts["succeeded"] < 20 and counts["pending"] > 0
    assert counts.get("streaming", 0) == counts.get("queued", 0) == 0

    run.resume(progress=False)
    assert run.status == "finished"
    rows = run.results()
    assert (rows["status"] == "succeeded").all() and len(rows) == 20
    assert rows["result_id"].is_unique
    assert stored(accounts, run.id) == 20  # no duplicate rows


def test_replay_a_board_conversation_on_another_model(
    accounts: Accounts, demo_models: DemoModels, demo_provider: DemoProvider
) -> None:
    first = accounts.user.ask("What is an index?", [demo_models.swift])
    conversation = int(first["conversation_id"][0])
    # a second turn in the same conversation, through the API
    api = accounts.user._api
    turn = api.post(f"api/conversations/{conversation}/messages", {"content": "And a view?"})
    deadline = time.monotonic() + 30
    while api.get(f"api/turns/{turn['turn_id']}")["status"] != "done":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    replayed = accounts.user.replay(conversation, [demo_models.scholar], progress=False)
    assert replayed.info["kind"] == "replay" and replayed.status == "finished"
    rows = replayed.results()
    assert list(rows["prompt"]) == ["What is an index?", "And a view?"]
    assert (rows["model"] == demo_models.scholar).all()
    assert (rows["status"] == "succeeded").all()


def test_bad_prompts_are_refused_before_anything_runs(
    accounts: Accounts, demo_models: DemoModels
) -> None:
    before = len(accounts.user.experiments())
    with pytest.raises(cm.ChatMoreError) as missing:
        accounts.user.run(pd.DataFrame({"text": ["x"]}), demo_models.swift, template="{txt}")
    assert missing.value.code == "VALIDATION_FAILED"
    with pytest.raises(cm.ChatMoreError) as no_prompt:
        accounts.user.run(pd.DataFrame({"text": ["x"]}), demo_models.swift)
    assert no_prompt.value.code == "VALIDATION_FAILED"
    with pytest.raises(TypeError):
        accounts.user.run([1, 2], demo_models.swift)
    with pytest.raises(cm.ChatMoreError) as empty:
        accounts.user.run([""], demo_models.swift)
    assert empty.value.code == "VALIDATION_FAILED"
    assert len(accounts.user.experiments()) == before
    mine = accounts.user.run(["hello"], demo_models.swift, progress=False)
    with pytest.raises(cm.ChatMoreError) as other:
        accounts.admin.experiment(mine.id)  # another account's experiment is not found
    assert other.value.code == "EXPERIMENT_NOT_FOUND"


def test_the_matrix_widget_holds_every_cell(accounts: Accounts, demo_models: DemoModels) -> None:
    run = accounts.user.run(
        ["What is 2 + 2?", "Name a prime."],
        [demo_models.swift, demo_models.failing],
        samples=2,
        progress=False,
    )
    widget = run.widget(height=300)
    try:
        assert [w["name"] for w in widget.windows] == [demo_models.swift, demo_models.failing]
        assert [c["prompt"] for c in widget.cases] == ["What is 2 + 2?", "Name a prime."]
        assert widget.samples == 2 and widget.progress["status"] == "finished"
        cells = widget.cells
        assert len(cells) == 8
        by_window = {w["id"]: w["name"] for w in widget.windows}
        statuses = {(by_window[c["window_id"]], c["status"]) for c in cells}
        assert statuses == {(demo_models.swift, "succeeded"), (demo_models.failing, "failed")}
        assert all(c["error_code"] for c in cells if c["status"] == "failed")
    finally:
        widget.close()
