"""Leases and the sweep (store/processes.py) on a real database of each backend: only
the results of a process that stopped are marked INTERRUPTED, never a live one's."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from server_ext.services.accounts import create_user_sync
from server_ext.store import migrate
from server_ext.store import processes as process_store
from server_ext.store.db import Database, utcnow
from server_ext.store.tables import (
    conversations,
    messages,
    models,
    server_processes,
    turn_results,
    turns,
    windows,
)

HERE = "this-host"


@pytest.fixture
def db(database_url: str):
    database = Database(database_url, threads=2)
    migrate.upgrade(database.engine)
    yield database
    database.close()


def add_turn(db: Database, runners: list[str | None]) -> int:
    """A running turn with one streaming result (and reply text) per runner."""
    user = create_user_sync(
        db, email=f"u{os.urandom(4).hex()}@example.com", password="x" * 12, bcrypt_cost=4
    )
    now = utcnow()

    def write(conn) -> int:
        model = conn.execute(
            insert(models).values(
                name=f"m{os.urandom(4).hex()}",
                base_url="http://127.0.0.1:9/v1",
                upstream_model="m",
                default_params={},
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        conversation = conn.execute(
            insert(conversations).values(
                user_id=user["id"],
                title="",
                tags=[],
                metadata={},
                last_message_at=now,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        turn = conn.execute(
            insert(turns).values(
                conversation_id=conversation,
                user_id=user["id"],
                mode="broadcast",
                input_text="hi",
                status="running",
                created_at=now,
            )
        ).inserted_primary_key[0]
        for runner in runners:
            window = conn.execute(
                insert(windows).values(
                    conversation_id=conversation, model_id=model, params={}, created_at=now
                )
            ).inserted_primary_key[0]
            conn.execute(
                insert(messages).values(
                    conversation_id=conversation,
                    window_id=window,
                    turn_id=turn,
                    role="assistant",
                    content=f"partial of {runner}",
                    created_at=now,
                )
            )
            conn.execute(
                insert(turn_results).values(
                    turn_id=turn,
                    window_id=window,
                    model_id=model,
                    user_id=user["id"],
                    status="streaming",
                    runner=runner,
                    created_at=now,
                    started_at=now,
                )
            )
        return int(turn)

    return db.write_sync(write)


def statuses(db: Database, turn: int) -> dict[str | None, tuple[str, str | None]]:
    def read(conn):
        rows = conn.execute(
            select(turn_results.c.runner, turn_results.c.status, turn_results.c.error_code).where(
                turn_results.c.turn_id == turn
            )
        )
        return {r.runner: (r.status, r.error_code) for r in rows}

    return db.read_sync(read)


def expire(db: Database, process_id: str) -> None:
    db.write_sync(
        lambda conn: conn.execute(
            update(server_processes)
            .where(server_processes.c.id == process_id)
            .values(lease_until=utcnow() - dt.timedelta(seconds=1))
        )
    )


def test_only_results_of_stopped_processes_are_interrupted(db: Database) -> None:
    # Two processes on another host (their pids mean nothing here), both leased.
    db.write_sync(process_store.register, "far:1:live", "far", 1, 60)
    db.write_sync(process_store.register, "far:2:gone", "far", 2, 60)
    turn = add_turn(db, ["far:1:live", "far:2:gone", None, "never-registered"])

    assert db.write_sync(process_store.sweep, HERE) == 2  # no process, or an unknown one
    expire(db, "far:2:gone")
    assert db.write_sync(process_store.sweep, HERE) == 1
    found = statuses(db, turn)
    assert found["far:1:live"] == ("streaming", None)
    for runner in ("far:2:gone", None, "never-registered"):
        assert found[runner] == ("failed", "INTERRUPTED")
    ids = [p["id"] for p in db.read_sync(process_store.live_processes)]
    assert ids == ["far:1:live"]  # the stopped one is forgotten
    # The turn still runs while one of its results does.
    assert db.read_sync(lambda c: c.execute(select(turns.c.status)).scalar()) == "running"

    expire(db, "far:1:live")
    assert db.write_sync(process_store.sweep, HERE) == 1
    assert db.read_sync(lambda c: c.execute(select(turns.c.status)).scalar()) == "done"
    # The text is kept.
    replies = db.read_sync(lambda c: [r.content for r in c.execute(select(messages.c.content))])
    assert sorted(replies) == sorted(
        f"partial of {r}" for r in ("far:1:live", "far:2:gone", None, "never-registered")
    )


def test_a_dead_pid_on_this_host_needs_no_lease_to_run_out(db: Database) -> None:
    gone_pid = 2**22 + 12345  # above any pid this machine hands out
    db.write_sync(process_store.register, f"{HERE}:dead", HERE, gone_pid, 600)
    db.write_sync(process_store.register, f"{HERE}:me", HERE, os.getpid(), 600)
    turn = add_turn(db, [f"{HERE}:dead", f"{HERE}:me"])
    assert db.write_sync(process_store.sweep, HERE) == 1
    found = statuses(db, turn)
    assert found[f"{HERE}:dead"] == ("failed", "INTERRUPTED")
    assert found[f"{HERE}:me"] == ("streaming", None)


def test_a_renewal_after_the_lease_was_lost_registers_again(db: Database) -> None:
    db.write_sync(process_store.register, "p", "far", 1, 60)
    assert db.write_sync(process_store.renew, "p", "far", 1, 60) is True
    db.write_sync(process_store.deregister, "p")
    assert db.write_sync(process_store.renew, "p", "far", 1, 60) is False
    assert [p["id"] for p in db.read_sync(process_store.live_processes)] == ["p"]


def test_a_ticket_is_spent_once_and_pruned_after_it_expires(db: Database) -> None:
    later = utcnow() + dt.timedelta(seconds=60)
    db.write_sync(process_store.spend_ticket, "jti-1", later)
    with pytest.raises(IntegrityError):
        db.write_sync(process_store.spend_ticket, "jti-1", later)
    db.write_sync(process_store.spend_ticket, "jti-old", utcnow() - dt.timedelta(seconds=1))
    assert db.write_sync(process_store.prune_tickets) == 1
    with pytest.raises(IntegrityError):
        db.write_sync(process_store.spend_ticket, "jti-1", later)
