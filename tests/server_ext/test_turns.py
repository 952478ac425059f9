"""Conversations, turns and their SSE streams, end to end: a real server, the demo
provider as its own process over real sockets, on SQLite and MariaDB."""

from __future__ import annotations

import secrets
import threading
import time

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from server_ext.store.tables import messages, turn_results, turns
from tests.support.api import (
    Client,
    make_conversation,
    make_models,
    new_client,
    send,
    wait_turn,
)
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer
from tests.support.sse import open_stream, parse_lines, read_events, ticket


def error_code(answer: httpx.Response) -> str:
    return answer.json()["error"]["code"]


def tag() -> str:
    """A model base name no other test uses, to pick its requests out of the recording."""
    return f"w{secrets.token_hex(4)}"


@pytest.fixture
def admin(server: JupyterServer) -> Client:
    return new_client(server, "admin")


@pytest.fixture
def user(server: JupyterServer) -> Client:
    return new_client(server)


def texts_by_window(events) -> dict[int, str]:
    found: dict[int, str] = {}
    for event in events:
        if event.name == "chunk":
            window = event.data["window_id"]
            found[window] = found.get(window, "") + event.data["delta_text"]
    return found


# -- broadcast, fork, history ----------------------------------------------------------------


def test_three_window_broadcast_streams_in_order(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(
        admin,
        demo_provider.url,
        [
            "demo-swift;ttft_ms=20;tps=300",
            "demo-scholar;ttft_ms=40;tps=200",
            "x;fault=server_error",
        ],
    )
    conversation = make_conversation(user, models)
    windows = [w["id"] for w in conversation["windows"]]
    started = send(user, conversation["id"], "How do I join two tables in SQL?")
    assert started["window_ids"] == windows
    assert started["mode"] == "broadcast"

    events = read_events(user, started["turn_id"])
    ids = [e.id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(e.data["seq"] == e.id for e in events)
    done = events[-1]
    assert done.name == "done"
    assert done.data == {
        "turn_id": started["turn_id"],
        "seq": done.id,
        "models_total": 3,
        "models_succeeded": 2,
        "models_failed": 1,
        "models_cancelled": 0,
    }
    finals = {e.data["window_id"]: e for e in events if e.name in ("final", "error")}
    assert finals[windows[0]].name == "final" and finals[windows[1]].name == "final"
    assert finals[windows[2]].data["error"]["code"] == "PROVIDER_HTTP_ERROR"
    usage = finals[windows[0]].data["usage"]
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert finals[windows[0]].data["ttft_ms"] <= finals[windows[0]].data["latency_ms"]

    # What streamed is what was stored.
    turn = wait_turn(user, started["turn_id"])
    streamed = texts_by_window(events)
    for result in turn["results"]:
        if result["status"] == "succeeded":
            assert result["reply"] == streamed[result["window_id"]]
            assert "```" in result["reply"]  # the demo replies carry a code block
            assert (
                result["completion_tokens"]
                == finals[result["window_id"]].data["usage"]["completion_tokens"]
            )


def test_a_fork_leaves_the_other_chains_untouched(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    names = [tag(), tag(), tag()]
    models = make_models(admin, demo_provider.url, names)
    conversation = make_conversation(user, models, system_prompt="Be brief.")
    a, b, c = (w["id"] for w in conversation["windows"])

    # The first turn goes to every window, whatever the client asks.
    first = send(user, conversation["id"], "first question", window_ids=[b])
    assert first["window_ids"] == [a, b, c]
    wait_turn(user, first["turn_id"])

    fork = send(user, conversation["id"], "only for b", window_ids=[b])
    assert fork["window_ids"] == [b] and fork["mode"] == "single"
    wait_turn(user, fork["turn_id"])

    history = user.get(f"api/conversations/{conversation['id']}/messages").json()
    chains = {w["window_id"]: w["messages"] for w in history["windows"]}
    assert [m["content"] for m in chains[a] if m["role"] == "user"] == ["first question"]
    assert [m["content"] for m in chains[c] if m["role"] == "user"] == ["first question"]
    assert [m["content"] for m in chains[b] if m["role"] == "user"] == [
        "first question",
        "only for b",
    ]
    assistant = [m for m in chains[b] if m["role"] == "assistant"]
    assert all(m["result"]["status"] == "succeeded" for m in assistant)
    assert assistant[-1]["result"]["completion_tokens"] > 0

    # The fork's upstream request carried exactly window b's history.
    sent = demo_provider.requests(model=names[1])[-1]["body"]["messages"]
    first_reply = assistant[0]["content"]
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": first_reply},
        {"role": "user", "content": "only for b"},
    ]
    # ...and windows a and c were not called again.
    assert len(demo_provider.requests(model=names[0])) == 1
    assert len(demo_provider.requests(model=names[2])) == 1


def test_a_second_turn_carries_each_windows_own_history(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    ok_name, failing = tag(), tag()
    models = make_models(admin, demo_provider.url, [ok_name, f"{failing};fault=server_error"])
    conversation = make_conversation(
        user,
        [],
        windows=[
            {"model_id": models[0], "params": {"temperature": 0.9}, "system_prompt": "Pirate."},
            {"model_id": models[1]},
        ],
    )
    ok_window, failing_window = (w["id"] for w in conversation["windows"])
    wait_turn(user, send(user, conversation["id"], "one")["turn_id"])
    wait_turn(user, send(user, conversation["id"], "two")["turn_id"])

    ok_calls = demo_provider.requests(model=ok_name)
    assert ok_calls[-1]["body"]["temperature"] == 0.9
    second = ok_calls[-1]["body"]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[0]["content"] == "Pirate."
    # The failed reply is shown and stored but never sent back upstream.
    failed_second = demo_provider.requests(model=f"{failing};fault=server_error")
    assert [m["role"] for m in failed_second[-1]["body"]["messages"]] == ["user", "user"]
    history = user.get(
        f"api/conversations/{conversation['id']}/messages",
        params={"window_id": failing_window},
    ).json()["windows"][0]["messages"]
    assert [m["result"]["error_code"] for m in history if m["role"] == "assistant"] == [
        "PROVIDER_HTTP_ERROR",
        "PROVIDER_HTTP_ERROR",
    ]
    del ok_window


def test_the_same_model_twice_with_different_params(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    name = tag()
    (model,) = make_models(admin, demo_provider.url, [name], default_params={"temperature": 0.2})
    conversation = make_conversation(
        user,
        [],
        windows=[
            {"model_id": model, "name": "cold"},
            {"model_id": model, "name": "hot", "params": {"temperature": 1.4}},
        ],
    )
    cold, hot = conversation["windows"]
    assert cold["params_diff"] == {} and hot["params_diff"] == {"temperature": 1.4}
    assert hot["effective_params"] == {"temperature": 1.4}
    turn = wait_turn(user, send(user, conversation["id"], "Name a colour")["turn_id"])
    replies = {r["window_id"]: r["reply"] for r in turn["results"]}
    assert replies[cold["id"]] != replies[hot["id"]]
    temperatures = sorted(r["body"]["temperature"] for r in demo_provider.requests(model=name))
    assert temperatures == [0.2, 1.4]


# -- faults ----------------------------------------------------------------------------------

FAULTS = [
    # (model options, status, error code, partial text expected)
    ("fault=slow_first", "failed", "PROVIDER_TIMEOUT", False),
    ("fault=stall;stall_after=5", "failed", "PROVIDER_TIMEOUT", True),
    ("fault=rate_limit;retry_after=30", "failed", "PROVIDER_RATE_LIMITED", False),
    ("fault=server_error", "failed", "PROVIDER_HTTP_ERROR", False),
    ("fault=malformed;stall_after=5", "failed", "PROVIDER_BAD_RESPONSE", True),
    ("fault=early_close;stall_after=5", "failed", "PROVIDER_BAD_RESPONSE", True),
    ("fault=inband_error;stall_after=5", "failed", "PROVIDER_BAD_RESPONSE", True),
    ("fault=context_length", "failed", "PROVIDER_CONTEXT_TOO_LONG", False),
    ("fault=quota", "failed", "PROVIDER_QUOTA_EXCEEDED", False),
    ("fault=model_not_found", "failed", "PROVIDER_MODEL_NOT_FOUND", False),
    ("fault=split", "succeeded", None, True),
    ("fault=no_usage", "succeeded", None, True),
    ("fault=refuse_stream_options", "succeeded", None, True),
]


def test_one_window_per_fault_while_the_others_succeed(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(
        admin,
        demo_provider.url,
        ["demo-swift;ttft_ms=0;tps=0"] + [f"{tag()};{options}" for options, *_ in FAULTS],
    )
    conversation = make_conversation(user, models)
    started = send(user, conversation["id"], "Tell me about indexes")
    events = read_events(user, started["turn_id"])
    turn = wait_turn(user, started["turn_id"])
    by_window = {r["window_id"]: r for r in turn["results"]}
    ends = {e.data["window_id"]: e for e in events if e.name in ("final", "error")}
    streamed = texts_by_window(events)
    windows = [w["id"] for w in conversation["windows"]]
    assert by_window[windows[0]]["status"] == "succeeded"
    for window, (options, status, code, partial) in zip(windows[1:], FAULTS, strict=True):
        result = by_window[window]
        assert result["status"] == status, options
        assert result["error_code"] == code, options
        assert ends[window].name == ("final" if status == "succeeded" else "error"), options
        if partial:
            assert result["reply"], options
            assert result["reply"] == streamed[window], options
        if status == "failed":
            assert result["error_message"] and "Traceback" not in result["error_message"]
    no_usage = by_window[windows[FAULTS.index(("fault=no_usage", "succeeded", None, True)) + 1]]
    assert no_usage["completion_tokens"] is None
    assert events[-1].data["models_succeeded"] == 1 + sum(f[1] == "succeeded" for f in FAULTS)


# -- cancel, busy windows, validation --------------------------------------------------------


def test_cancel_one_window_mid_stream(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(
        admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=20", "demo-swift;ttft_ms=0;tps=60"]
    )
    conversation = make_conversation(user, models)
    slow, fast = (w["id"] for w in conversation["windows"])
    started = send(user, conversation["id"], "Explain transactions")
    turn_id = started["turn_id"]
    events: list = []
    with open_stream(user.server.api_url, turn_id, ticket(user, turn_id)) as stream:
        lines = parse_lines(stream.iter_lines())
        for item in lines:
            if not isinstance(item, str) and item.name == "chunk":
                events.append(item)
                if item.data["window_id"] == slow:
                    break
        time.sleep(0.3)
        busy = user.post(
            f"api/conversations/{conversation['id']}/messages",
            json={"content": "again", "window_ids": [slow]},
        )
        assert busy.status_code == 409
        assert error_code(busy) == "WINDOW_BUSY"
        cancelled = user.post(f"api/turns/{turn_id}/cancel", json={"window_ids": [slow]})
        assert cancelled.json()["cancelled_window_ids"] == [slow]
        for item in lines:
            if isinstance(item, str):
                continue
            events.append(item)
            if item.name == "done":
                break
    turn = wait_turn(user, turn_id)
    by_window = {r["window_id"]: r for r in turn["results"]}
    assert by_window[slow]["status"] == "cancelled"
    assert by_window[slow]["error_code"] == "CANCELLED"
    assert by_window[slow]["reply"] == texts_by_window(events)[slow] != ""
    assert by_window[fast]["status"] == "succeeded"
    assert events[-1].data["models_cancelled"] == 1
    # Cancelling a finished turn changes nothing.
    again = user.post(f"api/turns/{turn_id}/cancel", json={})
    assert again.json()["cancelled_window_ids"] == []


def count_rows(server: JupyterServer) -> tuple[int, int, int]:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.connect() as conn:
        counts = tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (turns, messages, turn_results)
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


def test_refused_turns_store_nothing(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(admin, demo_provider.url, [tag(), tag()])
    conversation = make_conversation(user, models)
    other = make_conversation(user, models)
    wait_turn(user, send(user, conversation["id"], "first")["turn_id"])
    before = count_rows(server)
    path = f"api/conversations/{conversation['id']}/messages"
    refused = {
        "empty": user.post(path, json={"content": "   "}),
        "missing": user.post(path, json={}),
        "too long": user.post(path, json={"content": "x" * 100_001}),
        "not text": user.post(path, json={"content": 42}),
        "unknown window": user.post(path, json={"content": "hi", "window_ids": [10**9]}),
        "another conversation's window": user.post(
            path, json={"content": "hi", "window_ids": [other["windows"][0]["id"]]}
        ),
        "bad window list": user.post(path, json={"content": "hi", "window_ids": []}),
    }
    for case, answer in refused.items():
        assert answer.status_code == 400, case
        assert error_code(answer) == "VALIDATION_FAILED", case
    admin.patch(f"api/models/{models[1]}", json={"enabled": False})
    disabled = user.post(path, json={"content": "hi"})
    assert disabled.status_code == 404
    assert error_code(disabled) == "MODEL_NOT_FOUND"
    assert count_rows(server) == before


def test_conversation_validation(admin: Client, user: Client, demo_provider: DemoProvider) -> None:
    (model,) = make_models(admin, demo_provider.url, [tag()])
    cases = [
        {"windows": []},
        {"windows": [{"model_id": model}] * 17},
        {"windows": [{"model_id": model, "params": {"temperature": 9}}]},
        {"windows": [{"model_id": "1"}]},
        {"windows": [{"model_id": model}], "tags": "not a list"},
        {"windows": [{"model_id": model}], "title": 5},
    ]
    for body in cases:
        answer = user.post("api/conversations", json=body)
        assert answer.status_code == 400, body
        assert error_code(answer) == "VALIDATION_FAILED"
    missing = user.post("api/conversations", json={"windows": [{"model_id": 10**9}]})
    assert error_code(missing) == "MODEL_NOT_FOUND"
    twelve = user.post("api/conversations", json={"windows": [{"model_id": model}] * 12})
    assert twelve.status_code == 201
    assert len(twelve.json()["windows"]) == 12


def test_list_rename_archive(admin: Client, user: Client, demo_provider: DemoProvider) -> None:
    models = make_models(admin, demo_provider.url, [tag()])
    made = [make_conversation(user, models, title=f"c{i}") for i in range(5)]
    wait_turn(user, send(user, made[1]["id"], "bump")["turn_id"])  # now the most recent
    page = user.get("api/conversations", params={"limit": 2}).json()
    assert [c["title"] for c in page["conversations"]] == ["c1", "c4"]
    rest = user.get("api/conversations", params={"limit": 10, "cursor": page["next_cursor"]})
    assert [c["title"] for c in rest.json()["conversations"]][:3] == ["c3", "c2", "c0"]
    renamed = user.patch(f"api/conversations/{made[0]['id']}", json={"title": "renamed"})
    assert renamed.json()["title"] == "renamed"
    archived = user.patch(f"api/conversations/{made[2]['id']}", json={"archived": True})
    assert archived.json()["archived_at"] is not None
    visible = {
        c["id"]
        for c in user.get("api/conversations", params={"limit": 200}).json()["conversations"]
    }
    assert made[2]["id"] not in visible and made[0]["id"] in visible
    only = user.get("api/conversations", params={"archived": "only"}).json()["conversations"]
    assert [c["id"] for c in only] == [made[2]["id"]]
    assert error_code(user.get("api/conversations", params={"cursor": "junk"})) == (
        "VALIDATION_FAILED"
    )


# -- streaming: resume, several readers, disconnects, keep-alives, coalescing ----------------


def test_resume_after_a_given_id_mid_turn_and_after_the_end(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(
        admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=120", "demo-scholar;ttft_ms=0;tps=90"]
    )
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "Explain normal forms")["turn_id"]

    reference: list = []
    reader = threading.Thread(target=lambda: reference.extend(read_events(user, turn_id)))
    reader.start()
    head = read_events(user, turn_id, stop_after=6)  # then this client drops
    assert len(head) == 6
    tail = read_events(user, turn_id, last_event_id=head[-1].id)  # resumes while it runs
    reader.join()
    assert [(e.id, e.name, e.data) for e in head + tail] == [
        (e.id, e.name, e.data) for e in reference
    ]
    # After the end, from memory and - after a restart - replayed from the database.
    middle = reference[len(reference) // 2].id
    expected = [(e.id, e.name, e.data) for e in reference if e.id > middle]
    assert [(e.id, e.name, e.data) for e in read_events(user, turn_id, middle)] == expected
    assert [(e.id, e.name, e.data) for e in read_events(user, turn_id, 0)] == [
        (e.id, e.name, e.data) for e in reference
    ]


def test_a_finished_turn_replays_identically_from_the_database(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server()
    admin, user = new_client(server, "admin"), new_client(server)
    models = make_models(
        admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=200", "x;fault=server_error"]
    )
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "Explain indexes")["turn_id"]
    live = read_events(user, turn_id)
    server.restart()
    replayed = read_events(user, turn_id)
    assert [(e.id, e.name, e.data) for e in replayed] == [(e.id, e.name, e.data) for e in live]
    header_resume = []
    with httpx.stream(
        "GET",
        f"{server.api_url}streams/turn/{turn_id}",
        params={"st": ticket(user, turn_id)},
        headers={"Last-Event-ID": str(live[2].id)},
    ) as stream:
        header_resume = [e for e in parse_lines(stream.iter_lines()) if not isinstance(e, str)]
    assert [e.id for e in header_resume] == [e.id for e in live[3:]]


def test_two_readers_see_the_same_events_and_a_dropped_one_stops_nothing(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=150"])
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "Explain views")["turn_id"]
    seen: list[list] = [[], []]
    threads = [
        threading.Thread(target=lambda i=i: seen[i].extend(read_events(user, turn_id)))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    read_events(user, turn_id, stop_after=1)  # a third client drops at once
    for thread in threads:
        thread.join()
    assert [e.id for e in seen[0]] == [e.id for e in seen[1]]
    assert seen[0][-1].name == "done"
    assert wait_turn(user, turn_id)["results"][0]["status"] == "succeeded"


def test_keep_alives_flow_while_a_provider_stalls(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(admin, demo_provider.url, [f"{tag()};fault=stall;stall_after=2"])
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "hello")["turn_id"]
    keepalives: list[str] = []
    events = read_events(user, turn_id, keepalives=keepalives)
    assert events[-1].name == "done"
    assert "keep-alive" in keepalives  # the idle limit is 1.5 s, keep-alives every 1 s


def test_many_small_deltas_are_coalesced(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(admin, demo_provider.url, [f"{tag()};tokens=2000;tps=0"])
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "a long one")["turn_id"]
    events = read_events(user, turn_id)
    chunks = [e for e in events if e.name == "chunk"]
    turn = wait_turn(user, turn_id)
    assert turn["results"][0]["completion_tokens"] == 2000
    assert "".join(e.data["delta_text"] for e in chunks) == turn["results"][0]["reply"]
    assert len(chunks) < 200  # 2,000 deltas became far fewer events


# -- isolation -------------------------------------------------------------------------------


def test_another_users_things_are_invisible(
    server: JupyterServer, admin: Client, demo_provider: DemoProvider
) -> None:
    alice, bob = new_client(server), new_client(server)
    models = make_models(admin, demo_provider.url, [tag()])
    conversation = make_conversation(alice, models)
    turn_id = send(alice, conversation["id"], "private")["turn_id"]
    wait_turn(alice, turn_id)
    cid, window = conversation["id"], conversation["windows"][0]["id"]
    not_found = {
        "detail": bob.get(f"api/conversations/{cid}"),
        "rename": bob.patch(f"api/conversations/{cid}", json={"title": "mine"}),
        "history": bob.get(f"api/conversations/{cid}/messages"),
        "send": bob.post(f"api/conversations/{cid}/messages", json={"content": "x"}),
        "send to her window": bob.post(
            f"api/conversations/{cid}/messages", json={"content": "x", "window_ids": [window]}
        ),
    }
    for case, answer in not_found.items():
        assert answer.status_code == 404, case
        assert error_code(answer) == "CONVERSATION_NOT_FOUND", case
    for case, answer in {
        "turn": bob.get(f"api/turns/{turn_id}"),
        "cancel": bob.post(f"api/turns/{turn_id}/cancel", json={}),
        "ticket": bob.post("streams/ticket", json={"turn_id": turn_id}),
    }.items():
        assert answer.status_code == 404, case
        assert error_code(answer) == "TURN_NOT_FOUND", case
    assert cid not in {c["id"] for c in bob.get("api/conversations").json()["conversations"]}
    # Her ticket is bound to her turn, and works once.
    st = ticket(alice, turn_id)
    with open_stream(server.api_url, turn_id + 1, st) as wrong_turn:
        assert wrong_turn.status_code == 401
        assert error_code_of(wrong_turn) == "AUTH_TOKEN_INVALID"
    with open_stream(server.api_url, turn_id, st) as first_use:
        assert first_use.status_code == 200
        first_use.read()
    with open_stream(server.api_url, turn_id, st) as second_use:
        assert second_use.status_code == 401
        assert error_code_of(second_use) == "AUTH_TOKEN_REVOKED"
    with open_stream(server.api_url, turn_id, "") as no_ticket:
        assert error_code_of(no_ticket) == "AUTH_TOKEN_MISSING"


def error_code_of(stream: httpx.Response) -> str:
    import json

    return json.loads(stream.read())["error"]["code"]


# -- a crash ---------------------------------------------------------------------------------


def test_sigkill_mid_turn_leaves_interrupted_results_with_their_text(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server()
    admin, user = new_client(server, "admin"), new_client(server)
    slow, quick = make_models(
        admin, demo_provider.url, ["demo-scholar;ttft_ms=0;tps=15", "demo-swift;ttft_ms=0;tps=0"]
    )
    conversation = make_conversation(user, [slow, quick])
    finished = make_conversation(user, [quick])
    earlier = wait_turn(user, send(user, finished["id"], "an earlier question")["turn_id"])

    turn_id = send(user, conversation["id"], "Explain query planning")["turn_id"]
    head = read_events(user, turn_id, stop_after=12)
    time.sleep(1.5)  # at least one checkpoint of the slow window's partial text
    server.kill()
    server.start()

    turn = user.get(f"api/turns/{turn_id}").json()
    assert turn["status"] == "done"
    by_model = {r["model_id"]: r for r in turn["results"]}
    interrupted = by_model[slow]
    assert interrupted["status"] == "failed"
    assert interrupted["error_code"] == "INTERRUPTED"
    streamed = texts_by_window(head).get(interrupted["window_id"], "")
    assert interrupted["reply"] and interrupted["reply"].startswith(streamed[:20])
    assert by_model[quick]["status"] == "succeeded"  # it had finished before the crash

    # Nothing else was lost.
    assert user.get(f"api/turns/{earlier['id']}").json()["results"] == earlier["results"]
    replayed = read_events(user, turn_id)
    ends = [e for e in replayed if e.name == "error"]
    assert [e.data["error"]["code"] for e in ends] == ["INTERRUPTED"]
    assert replayed[-1].name == "done" and replayed[-1].data["models_failed"] == 1
    # The window is free again.
    assert (
        user.post(
            f"api/conversations/{conversation['id']}/messages", json={"content": "after"}
        ).status_code
        == 202
    )


def test_two_sends_racing_for_one_window_store_one_turn(
    server: JupyterServer, admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    """Both pass validation, both start their call; the write lets one through, and the
    other's call is dropped with nothing shown or stored."""
    (model,) = make_models(admin, demo_provider.url, [f"{tag()};ttft_ms=300;tps=0;tokens=20"])
    conversation = make_conversation(user, [model])
    wait_turn(user, send(user, conversation["id"], "first")["turn_id"])
    window = conversation["windows"][0]["id"]
    for _ in range(3):
        before = count_rows(server)
        answers: list[httpx.Response] = []
        barrier = threading.Barrier(2)

        def post(answers=answers, barrier=barrier) -> None:
            barrier.wait()
            answers.append(
                user.post(
                    f"api/conversations/{conversation['id']}/messages",
                    json={"content": "racing", "window_ids": [window]},
                )
            )

        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [202, 409], [a.text for a in answers]
        winner = next(a for a in answers if a.status_code == 202).json()["turn_id"]
        assert wait_turn(user, winner)["results"][0]["status"] == "succeeded"
        turns_, messages_, results_ = count_rows(server)
        assert (turns_, messages_, results_) == (before[0] + 1, before[1] + 2, before[2] + 1)


# -- a turn in one request -------------------------------------------------------------------


def test_a_turn_in_one_request_streams_what_the_stream_route_replays(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    models = make_models(
        admin, demo_provider.url, [f"{tag()};ttft_ms=0;tps=200", f"{tag()};fault=server_error"]
    )
    conversation = make_conversation(user, models)
    windows = [w["id"] for w in conversation["windows"]]
    with user.http.stream(
        "POST",
        f"api/conversations/{conversation['id']}/messages",
        json={"content": "Explain indexes"},
        headers={**user.auth, "Accept": "text/event-stream"},
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-cache"
        turn_id = int(answer.headers["x-chatmore-turn-id"])
        assert answer.headers["x-chatmore-window-ids"] == ",".join(map(str, windows))
        live = [e for e in parse_lines(answer.iter_lines()) if not isinstance(e, str)]
    assert live[-1].name == "done" and live[-1].data["models_succeeded"] == 1
    assert {e.name for e in live} == {"chunk", "final", "error", "done"}
    assert read_events(user, turn_id) == live
    # A refused turn is refused the same way, as JSON.
    busy = user.post(
        f"api/conversations/{conversation['id']}/messages",
        json={"content": ""},
        headers={"Accept": "text/event-stream"},
    )
    assert busy.status_code == 400 and error_code(busy) == "VALIDATION_FAILED"


def test_a_prompt_says_where_it_comes_from_among_a_clients_sources(
    admin: Client, user: Client, demo_provider: DemoProvider
) -> None:
    """DESIGN §11: a board's prompt is stored as "board", cm.ask's as "ask"; the sources
    of the server's own calls (gateway, experiment, judge) cannot be claimed."""
    models = make_models(admin, demo_provider.url, ["demo-swift;ttft_ms=0;tps=0"])
    conversation = make_conversation(user, models)
    path = f"api/conversations/{conversation['id']}/messages"
    for claimed in ("gateway", "experiment", "judge", "", 7, ["ask"]):
        refused = user.post(path, json={"content": "Hi", "source": claimed})
        assert refused.status_code == 400, claimed
        assert refused.json()["error"]["code"] == "VALIDATION_FAILED"
    results = {"conversation_id": conversation["id"]}
    nothing = user.get("api/results", params=results).json()["results"]
    assert nothing["result_id"] == []  # nothing half-written
    for source in ("ask", None, "board"):
        body = {"content": "Hi"} if source is None else {"content": "Hi", "source": source}
        started = user.post(path, json=body)
        assert started.status_code == 202, started.text
        wait_turn(user, started.json()["turn_id"])
    stored = user.get("api/results", params=results).json()["results"]
    by_id = dict(zip(stored["result_id"], stored["source"], strict=True))
    assert [by_id[i] for i in sorted(by_id)] == ["ask", "board", "board"]
