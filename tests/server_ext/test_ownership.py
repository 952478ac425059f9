"""Nothing recorded is lost (DESIGN §8, "Ownership and several processes"): a crash
while several windows stream, and two server processes on one database and one data
directory, end to end on SQLite and MariaDB."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer, wait_until
from tests.support.sse import SseEvent, open_stream, parse_lines, read_events, ticket

LEASE = "4s"


def slow(tokens: int = 400, tps: int = 40) -> str:
    return f"w{secrets.token_hex(4)};ttft_ms=0;tps={tps};tokens={tokens}"


def on(server: JupyterServer, client: Client) -> Client:
    """The same signed-in user, talking to another server process (one keyring)."""
    return Client(server, client.email, server.client(), client.token, client.user)


class Follower(threading.Thread):
    """Reads a turn's stream until it ends or the connection breaks, noting when each
    event arrived."""

    def __init__(self, api_url: str, turn_id: int, st: str) -> None:
        super().__init__(daemon=True)
        self.api_url, self.turn_id, self.st = api_url, turn_id, st
        self.events: list[SseEvent] = []
        self.arrived: list[float] = []
        self.status: int | None = None

    def run(self) -> None:
        try:
            with open_stream(self.api_url, self.turn_id, self.st, timeout=120) as stream:
                self.status = stream.status_code
                for item in parse_lines(stream.iter_lines()):
                    if isinstance(item, SseEvent):
                        self.events.append(item)
                        self.arrived.append(time.monotonic())
                        if item.name == "done":
                            return
        except httpx.HTTPError:
            pass  # the server went away

    def texts(self, until: float | None = None) -> dict[int, str]:
        found: dict[int, str] = {}
        for event, at in zip(self.events, self.arrived, strict=True):
            if event.name == "chunk" and (until is None or at <= until):
                window = event.data["window_id"]
                found[window] = found.get(window, "") + event.data["delta_text"]
        return found


def follow(client: Client, turn_id: int) -> Follower:
    follower = Follower(client.server.api_url, turn_id, ticket(client, turn_id))
    follower.start()
    return follower


def streaming_with_text(client: Client, turn_id: int, windows: int, chars: int):
    """The turn as api/turns shows it once every window has checkpointed some text."""

    def check():
        turn = client.get(f"api/turns/{turn_id}").json()
        results = turn["results"]
        if len(results) == windows and all(
            r["status"] == "streaming" and len(r["reply"] or "") >= chars for r in results
        ):
            return turn
        return None

    return wait_until(check, 60, "every window's checkpointed text", interval=0.1)


def test_sigkill_while_three_windows_stream_keeps_each_ones_text(
    make_server, demo_provider: DemoProvider
) -> None:
    server = make_server()
    admin, user = new_client(server, "admin"), new_client(server)
    models = make_models(admin, demo_provider.url, [slow(), slow(), slow()])
    conversation = make_conversation(user, models)
    turn_id = send(user, conversation["id"], "Explain query planning")["turn_id"]
    follower = follow(user, turn_id)

    # While it streams, the turn's detail shows each window streaming with its text so far.
    seen = streaming_with_text(user, turn_id, 3, chars=40)
    assert seen["status"] == "running"
    time.sleep(1.5)  # more text, and at least one more checkpoint
    killed_at = time.monotonic()
    server.kill()
    follower.join(30)
    server.start()

    received = follower.texts()
    turn = user.get(f"api/turns/{turn_id}").json()
    assert turn["status"] == "done"
    before = {r["window_id"]: r["reply"] for r in seen["results"]}
    for result in turn["results"]:
        window = result["window_id"]
        assert (result["status"], result["error_code"]) == ("failed", "INTERRUPTED")
        reply = result["reply"]
        assert reply and received[window].startswith(reply)
        assert reply.startswith(before[window]) and len(reply) > len(before[window])
        # How far the record is behind the stream: the text that had arrived by the
        # kill less a checkpoint period (1 s) and generous slack is all stored.
        stored_by = follower.texts(until=killed_at - 4.0).get(window, "")
        assert reply.startswith(stored_by)
        assert len(reply) >= len(stored_by)

    replayed = read_events(user, turn_id)
    assert [e.data["error"]["code"] for e in replayed if e.name == "error"] == ["INTERRUPTED"] * 3
    assert replayed[-1].name == "done" and replayed[-1].data["models_failed"] == 3
    assert send(user, conversation["id"], "after the crash")["turn_id"] > turn_id


@pytest.fixture
def two_servers(make_server, tmp_path: Path):
    """Two server processes on one database and one data directory."""
    first = make_server(env={"CHATMORE_PROCESS_LEASE": LEASE})
    second = JupyterServer(workdir=tmp_path / "second", env=dict(first.env))
    try:
        yield first, second.start()
    finally:
        second.stop()


def test_two_processes_share_turns_without_touching_each_others(
    two_servers: tuple[JupyterServer, JupyterServer], demo_provider: DemoProvider
) -> None:
    a, b = two_servers
    admin_a, user_a = new_client(a, "admin"), new_client(a)
    user_b = on(b, user_a)
    models = make_models(admin_a, demo_provider.url, [slow(160), slow(160, tps=60)])
    conversation = make_conversation(user_a, models)

    # A turn started on A and followed on B streams completely and identically.
    turn_id = send(user_a, conversation["id"], "first")["turn_id"]
    on_a, on_b = follow(user_a, turn_id), follow(user_b, turn_id)
    on_a.join(60)
    on_b.join(60)
    assert on_a.events and on_a.events[-1].name == "done"
    assert [(e.name, e.id) for e in on_b.events] == [(e.name, e.id) for e in on_a.events]
    assert on_b.events == on_a.events
    # ... and resuming on B mid-turn gives exactly what follows that id.
    middle = on_a.events[len(on_a.events) // 2].id
    assert read_events(user_b, turn_id, last_event_id=middle) == [
        e for e in on_a.events if e.id > middle
    ]

    # Restarting B while A streams leaves A's turn alone; B refuses the busy window.
    # Replies of 30 s: time for B to restart on a busy machine while they stream.
    long = make_models(admin_a, demo_provider.url, [slow(3000, tps=100), slow(3000, tps=100)])
    conversation = make_conversation(user_a, long)
    turn_id = send(user_a, conversation["id"], "second")["turn_id"]
    streaming_with_text(user_a, turn_id, 2, chars=10)
    b.stop()
    b.start()
    assert user_a.get(f"api/turns/{turn_id}").json()["status"] == "running", "B took too long"
    busy = user_b.post(f"api/conversations/{conversation['id']}/messages", json={"content": "x"})
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "WINDOW_BUSY"
    done = wait_turn(user_a, turn_id, timeout=120)
    assert [r["status"] for r in done["results"]] == ["succeeded", "succeeded"]

    # A ticket spent on A is refused on B.
    st = ticket(user_a, turn_id)
    with open_stream(a.api_url, turn_id, st) as first_use:
        assert first_use.status_code == 200
        first_use.read()
    with open_stream(b.api_url, turn_id, st) as second_use:
        assert second_use.status_code == 401
        second_use.read()
        assert second_use.json()["error"]["code"] == "AUTH_TOKEN_REVOKED"

    # A stop asked of B reaches the turn that A runs.
    turn_id = send(user_a, conversation["id"], "to be stopped")["turn_id"]
    streaming_with_text(user_a, turn_id, 2, chars=10)
    stopped = user_b.post(f"api/turns/{turn_id}/cancel", json={})
    assert stopped.json()["cancelled_window_ids"] == [w["id"] for w in conversation["windows"]]
    turn = wait_turn(user_a, turn_id, timeout=120)
    for result in turn["results"]:
        assert (result["status"], result["error_code"]) == ("cancelled", "CANCELLED")
        assert result["reply"]

    # Killing A makes B mark A's results INTERRUPTED, keeping their text.
    turn_id = send(user_a, conversation["id"], "third")["turn_id"]
    streaming_with_text(user_a, turn_id, 2, chars=10)
    a.kill()
    turn = wait_until(
        lambda: (t := user_b.get(f"api/turns/{turn_id}").json())["status"] == "done" and t,
        60,
        "B to settle A's turn",
        interval=0.2,
    )
    for result in turn["results"]:
        assert (result["status"], result["error_code"]) == ("failed", "INTERRUPTED")
        assert result["reply"]
    # B answers the next turn of that conversation.
    wait_turn(user_b, send(user_b, conversation["id"], "on b")["turn_id"])
