"""The relay in a real ipykernel: batches sent from the relay's background thread reach
iopub complete and in order, while the kernel is idle again."""

from __future__ import annotations

import queue
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import KernelManager

REPO = Path(__file__).resolve().parents[2]

SETUP = textwrap.dedent(
    """
    from tests.widgets.fakes import FakeBackend, turn_events
    from widgets import Board

    backend = FakeBackend(windows=list(range(1, 13)))
    backend.script[7] = turn_events(7, list(range(1, 13)), chunks=400)
    backend.pause_every = 500  # a little time between bursts, like a real stream
    board = Board(backend, windows=[{"id": i} for i in range(1, 13)], follow=False)
    print(board.comm.comm_id)
    """
)
TOTAL_EVENTS = 12 * 400 + 12 + 1


@pytest.fixture
def kernel() -> Iterator[Any]:
    manager = KernelManager(kernel_name="python3")  # ipykernel's own spec: this interpreter
    manager.start_kernel(cwd=str(REPO))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
        manager.cleanup_resources()


def iopub_until(client: Any, done, timeout: float) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=0.5)
        except queue.Empty:
            continue
        messages.append(message)
        if done(message):
            return messages
    raise AssertionError(f"timed out; last messages: {[m['msg_type'] for m in messages[-10:]]}")


@pytest.mark.slow
def test_relay_batches_reach_iopub_from_the_background_thread(kernel: Any) -> None:
    outputs: list[str] = []

    def keep_stdout(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            outputs.append(message["content"]["text"])

    reply = kernel.execute_interactive(SETUP, timeout=60, output_hook=keep_stdout)
    assert reply["content"]["status"] == "ok", reply["content"]
    comm_id = "".join(outputs).strip()
    assert comm_id

    # What the front end sends when its EventSource cannot reach the server.
    request = kernel.session.msg(
        "comm_msg",
        {
            "comm_id": comm_id,
            "data": {
                "method": "custom",
                "content": {"type": "relay", "turn_id": 7, "last_event_id": None},
            },
        },
    )
    kernel.shell_channel.send(request)

    def is_last_batch(message: dict[str, Any]) -> bool:
        content = message["content"]
        if message["msg_type"] != "comm_msg" or content.get("comm_id") != comm_id:
            return False
        custom = content["data"].get("content", {})
        return custom.get("type") == "events" and custom["events"][-1]["event"] == "done"

    messages = iopub_until(kernel, is_last_batch, timeout=60)
    batches = [
        m["content"]["data"]["content"]
        for m in messages
        if m["msg_type"] == "comm_msg"
        and m["content"].get("comm_id") == comm_id
        and m["content"]["data"].get("content", {}).get("type") == "events"
    ]
    events = [e for batch in batches for e in batch["events"]]
    assert [e["id"] for e in events] == list(range(1, TOTAL_EVENTS + 1))
    assert events[-1]["data"] == {
        "turn_id": 7,
        "models_total": 12,
        "models_succeeded": 12,
        "models_failed": 0,
    }
    assert len(batches) < 80, f"{len(batches)} messages for {TOTAL_EVENTS} events"

    # The comm handler returned at once (the kernel went idle for the request) and the
    # batches kept coming after that: they were sent from the relay's own thread.
    idle_at = next(
        i
        for i, m in enumerate(messages)
        if m["msg_type"] == "status"
        and m["content"]["execution_state"] == "idle"
        and m["parent_header"].get("msg_id") == request["header"]["msg_id"]
    )
    assert any(m["msg_type"] == "comm_msg" for m in messages[idle_at + 1 :]), (
        "every batch was sent before the kernel went idle"
    )
