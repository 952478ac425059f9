"""Queries of the per-model circuit breakers: one row per model that has failed, shared
by every server process (see ``services/circuits.py`` for the rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from .tables import model_circuits as mc


def get_all(conn: Connection) -> dict[int, dict[str, Any]]:
    return {row["model_id"]: dict(row) for row in conn.execute(select(mc)).mappings()}


def get(conn: Connection, model_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(mc).where(mc.c.model_id == model_id)).mappings().first()
    return dict(row) if row else None


def _locked(conn: Connection, model_id: int, at: dt.datetime) -> dict[str, Any]:
    """The model's row, locked for this transaction (made, closed, when missing).

    A missing row is made before anything is locked: a locking read of a missing row
    holds a gap lock, and two first failures of different models in one gap deadlocked
    on MariaDB. Made by a plain insert that ignores an existing row (no savepoint: a
    deadlock inside one leaves nothing to roll back to)."""
    present = select(mc.c.model_id).where(mc.c.model_id == model_id)
    if conn.execute(present).first() is None:
        conn.execute(
            insert(mc)
            .values(model_id=model_id, state="closed", failures=0, updated_at=at)
            .prefix_with("IGNORE", dialect="mysql")
            .prefix_with("OR IGNORE", dialect="sqlite")
        )
    query = select(mc).where(mc.c.model_id == model_id).with_for_update()
    return dict(conn.execute(query).mappings().one())


def record_failure(
    conn: Connection, model_id: int, at: dt.datetime, *, threshold: int, window: dt.timedelta
) -> dict[str, Any]:
    """Count a failure; open the circuit at ``threshold`` failures in a row (each within
    ``window`` of the first), or again when the probe of a half-open one failed."""
    row = _locked(conn, model_id, at)
    values: dict[str, Any] = {"updated_at": at}
    if row["state"] == "half_open":
        values.update(state="open", opened_at=at, probe_until=None)
    elif row["state"] == "closed":
        first = row["first_failure_at"]
        if first is None or at - first > window:
            values.update(failures=1, first_failure_at=at)
        else:
            values["failures"] = row["failures"] + 1
        if values.get("failures", 0) >= threshold:
            values.update(state="open", opened_at=at)
    conn.execute(update(mc).where(mc.c.model_id == model_id).values(**values))
    return {**row, **values}


def record_success(conn: Connection, model_id: int, at: dt.datetime) -> None:
    """An answer from the provider: the failures in a row end and the circuit closes."""
    conn.execute(
        update(mc)
        .where(mc.c.model_id == model_id)
        .values(
            state="closed",
            failures=0,
            first_failure_at=None,
            opened_at=None,
            probe_until=None,
            updated_at=at,
        )
    )


def take_probe(
    conn: Connection, model_id: int, at: dt.datetime, *, cooldown: dt.timedelta
) -> bool:
    """Make this call the one probe of an open circuit whose cool-down is over (or whose
    last probe never reported back): True for exactly one caller across processes."""
    changed = conn.execute(
        update(mc)
        .where(
            mc.c.model_id == model_id,
            or_(
                (mc.c.state == "open") & (mc.c.opened_at <= at - cooldown),
                (mc.c.state == "half_open") & (mc.c.probe_until <= at),
            ),
        )
        .values(state="half_open", probe_until=at + cooldown, updated_at=at)
    ).rowcount
    return changed == 1


def release_probe(conn: Connection, model_id: int, at: dt.datetime) -> None:
    """A probe that ended without a verdict (cancelled): another call may probe."""
    conn.execute(
        update(mc)
        .where(mc.c.model_id == model_id, mc.c.state == "half_open")
        .values(state="open", probe_until=None, updated_at=at)
    )
