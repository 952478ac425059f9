"""The circuit rows (store/circuits.py) under concurrent failures, on each backend:
several models failing at the same instant, each for the first time, all get counted.
On MariaDB two first failures at once used to deadlock on the rows' gap locks and the
error escaped through the breaker into the window's result (INTERNAL_ERROR in place of
the provider's error)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import insert, select

from server_ext.config import load_settings
from server_ext.services.circuits import CircuitBreakers
from server_ext.services.provider_client import ProviderError
from server_ext.store import circuits as circuit_store
from server_ext.store import migrate
from server_ext.store.db import Database, utcnow
from server_ext.store.tables import model_circuits, models

THREADS = 8


@pytest.fixture
def db(database_url: str):
    database = Database(database_url, threads=THREADS)
    migrate.upgrade(database.engine)
    yield database
    database.close()


def new_models(db: Database, count: int) -> list[int]:
    now = utcnow()

    def write(conn) -> list[int]:
        return [
            conn.execute(
                insert(models).values(
                    name=f"m{os.urandom(4).hex()}",
                    base_url="http://127.0.0.1:9/v1",
                    upstream_model="m",
                    default_params={},
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
            for _ in range(count)
        ]

    return db.write_sync(write)


def test_first_failures_of_many_models_at_once_are_all_counted(db: Database) -> None:
    for _ in range(5):  # rounds of fresh models: each failure has a row to make
        ids = new_models(db, THREADS)
        start = threading.Barrier(THREADS)

        def fail(model_id: int, start: threading.Barrier = start) -> dict:
            start.wait()
            return db.write_sync(
                circuit_store.record_failure,
                model_id,
                utcnow(),
                threshold=3,
                window=dt.timedelta(minutes=1),
            )

        with ThreadPoolExecutor(THREADS) as pool:
            rows = list(pool.map(fail, ids))
        assert [row["failures"] for row in rows] == [1] * THREADS
        stored = db.read_sync(
            lambda conn, ids=ids: {
                r.model_id: r.failures
                for r in conn.execute(
                    select(model_circuits).where(model_circuits.c.model_id.in_(ids))
                )
            }
        )
        assert stored == dict.fromkeys(ids, 1)


def test_a_breaker_that_cannot_record_leaves_the_calls_own_error(
    db: Database, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """The breaker's bookkeeping never decides how a call ended: a failure to record it
    (here a model the database does not hold) is logged, the provider's error stands."""
    settings = load_settings({}, {"CHATMORE_DATA_DIR": str(tmp_path)})
    breakers = CircuitBreakers(db, settings)
    ghost = {"id": 10**9, "name": "ghost"}

    async def timed_out() -> None:
        raise ProviderError("PROVIDER_TIMEOUT", "no first token in time")

    with pytest.raises(ProviderError) as raised:
        asyncio.run(breakers.guard(ghost, timed_out()))
    assert raised.value.code == "PROVIDER_TIMEOUT"
    assert "circuit of model ghost: the call's end could not be recorded" in caplog.text
