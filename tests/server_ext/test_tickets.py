"""Stream tickets: single use, bound to one user and one turn, short-lived (DESIGN §7).

The SSE endpoint spends tickets over HTTP (tests/server_ext/test_turns_sse.py); here the
ticket service itself runs against a real database of each backend.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert

from server_ext.config import load_settings
from server_ext.errors import ChatMoreError
from server_ext.runtime import Runtime
from server_ext.store.db import utcnow
from server_ext.store.tables import conversations, turns
from tests.support.api import PASSWORD


def make_runtime(database_url: str, tmp_path: Path, **env: str) -> Runtime:
    settings = load_settings(
        {},
        {
            "CHATMORE_DATA_DIR": str(tmp_path),
            "CHATMORE_DB_URL": database_url,
            "BCRYPT_COST": "4",
            **env,
        },
    )
    return Runtime.build(settings)


def seed(runtime: Runtime, email: str) -> tuple[object, int]:
    from server_ext.services.accounts import create_user_sync
    from server_ext.services.auth import AuthUser

    row = create_user_sync(runtime.db, email=email, password=PASSWORD, bcrypt_cost=4)
    now = utcnow()

    def add_turn(conn) -> int:
        conversation = conn.execute(
            insert(conversations).values(
                user_id=row["id"],
                title="",
                tags=[],
                metadata={},
                last_message_at=now,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        return conn.execute(
            insert(turns).values(
                conversation_id=conversation,
                user_id=row["id"],
                mode="broadcast",
                input_text="hi",
                status="done",
                created_at=now,
            )
        ).inserted_primary_key[0]

    turn = runtime.db.write_sync(add_turn)
    return AuthUser(row["id"], row["email"], row["role"], row["display_name"]), int(turn)


def code_of(awaitable) -> str:
    with pytest.raises(ChatMoreError) as caught:
        asyncio.run(awaitable)
    return caught.value.code


def test_a_ticket_works_once(database_url: str, tmp_path: Path) -> None:
    runtime = make_runtime(database_url, tmp_path)
    try:
        alice, turn = seed(runtime, "alice@example.com")
        ticket = asyncio.run(runtime.auth.issue_ticket(alice, turn)).token
        assert asyncio.run(runtime.auth.redeem_ticket(ticket, turn)).id == alice.id
        assert code_of(runtime.auth.redeem_ticket(ticket, turn)) == "AUTH_TOKEN_REVOKED"
    finally:
        asyncio.run(runtime.stop())


def test_a_ticket_is_bound_to_its_turn_and_user(database_url: str, tmp_path: Path) -> None:
    runtime = make_runtime(database_url, tmp_path)
    try:
        alice, alice_turn = seed(runtime, "alice@example.com")
        bob, bob_turn = seed(runtime, "bob@example.com")
        # Bob cannot get a ticket for Alice's turn...
        assert code_of(runtime.auth.issue_ticket(bob, alice_turn)) == "TURN_NOT_FOUND"
        # ...nor use his own ticket on her turn.
        ticket = asyncio.run(runtime.auth.issue_ticket(bob, bob_turn)).token
        assert code_of(runtime.auth.redeem_ticket(ticket, alice_turn)) == "AUTH_TOKEN_INVALID"
        # An access token is not a ticket.
        session = asyncio.run(runtime.auth.login("alice@example.com", PASSWORD, "ua", "ip"))
        assert (
            code_of(runtime.auth.redeem_ticket(session.access.token, alice_turn))
            == "AUTH_TOKEN_INVALID"
        )
        assert code_of(runtime.auth.redeem_ticket(None, alice_turn)) == "AUTH_TOKEN_MISSING"
        del alice
    finally:
        asyncio.run(runtime.stop())


def test_a_ticket_past_its_life_is_refused(database_url: str, tmp_path: Path) -> None:
    """The ticket's 60 s life is checked over HTTP (exp - iat); here one that ran out
    (issued by the server's own token service with its life already over) is refused."""
    runtime = make_runtime(database_url, tmp_path)
    try:
        alice, turn = seed(runtime, "alice@example.com")
        stale = runtime.auth.tokens.issue("stream", str(alice.id), -10, {"tid": turn}).token
        assert code_of(runtime.auth.redeem_ticket(stale, turn)) == "AUTH_TOKEN_EXPIRED"
    finally:
        asyncio.run(runtime.stop())
