"""Server processes and their leases (DESIGN §8 "Ownership and several processes").

Each process that runs turns has a row, renewed by a heartbeat; every queued or
streaming result names its process in ``turn_results.runner``. A process whose lease
ran out has stopped (or can no longer reach the database, which is the same for the
record): any process may then mark the results it left running as INTERRUPTED. On the
process's own host a dead pid tells it at once, without waiting for the lease.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, not_, or_, select, update

from .db import utcnow
from .tables import experiments, server_processes, turn_results, turns, used_tickets

ACTIVE = ("queued", "streaming")
INTERRUPTED_MESSAGE = "the server stopped while this reply was streaming"


def register(conn: Connection, process_id: str, host: str, pid: int, lease: float) -> None:
    now = utcnow()
    conn.execute(
        insert(server_processes).values(
            id=process_id,
            host=host,
            pid=pid,
            started_at=now,
            heartbeat_at=now,
            lease_until=now + dt.timedelta(seconds=lease),
        )
    )


def renew(conn: Connection, process_id: str, host: str, pid: int, lease: float) -> bool:
    """Extend the lease. Returns False when the row was gone (another process found
    this one dead, e.g. after a long pause): it is registered again, but the results
    already marked INTERRUPTED stay so."""
    now = utcnow()
    changed = conn.execute(
        update(server_processes)
        .where(server_processes.c.id == process_id)
        .values(heartbeat_at=now, lease_until=now + dt.timedelta(seconds=lease))
    ).rowcount
    if not changed:
        register(conn, process_id, host, pid, lease)
    return bool(changed)


def deregister(conn: Connection, process_id: str) -> None:
    conn.execute(delete(server_processes).where(server_processes.c.id == process_id))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def dead_processes(conn: Connection, host: str) -> list[str]:
    """Processes whose lease ran out, and those of this host whose pid is gone."""
    now = utcnow()
    rows = conn.execute(
        select(
            server_processes.c.id,
            server_processes.c.host,
            server_processes.c.pid,
            server_processes.c.lease_until,
        )
    ).all()
    return [
        row.id
        for row in rows
        if row.lease_until < now
        or (row.host == host and row.pid != os.getpid() and not _pid_alive(row.pid))
    ]


def sweep(conn: Connection, host: str) -> int:
    """Mark INTERRUPTED the results whose process has stopped (or that name no live
    process at all), keeping their checkpointed text; forget the stopped processes; end
    the turns left with nothing running. Returns how many results changed."""
    dead = dead_processes(conn, host)
    live = select(server_processes.c.id).where(server_processes.c.id.not_in(dead or [""]))
    now = utcnow()
    changed = conn.execute(
        update(turn_results)
        .where(
            turn_results.c.status.in_(ACTIVE),
            or_(turn_results.c.runner.is_(None), turn_results.c.runner.not_in(live)),
        )
        .values(
            status="failed",
            error_code="INTERRUPTED",
            error_message=INTERRUPTED_MESSAGE,
            finished_at=now,
        )
    ).rowcount
    conn.execute(
        update(experiments)
        .where(
            experiments.c.status == "running",
            experiments.c.runner.is_not(None),
            experiments.c.runner.not_in(live),
        )
        .values(status="interrupted", finished_at=now)
    )
    if dead:
        conn.execute(delete(server_processes).where(server_processes.c.id.in_(dead)))
    if changed:
        _end_idle_turns(conn, now)
    return changed


def _end_idle_turns(conn: Connection, now: dt.datetime) -> None:
    still_running = (
        select(turn_results.c.id)
        .where(turn_results.c.turn_id == turns.c.id, turn_results.c.status.in_(ACTIVE))
        .exists()
    )
    conn.execute(
        update(turns)
        .where(and_(turns.c.status == "running", not_(still_running)))
        .values(status="done", finished_at=now)
    )


def live_processes(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(server_processes).order_by(server_processes.c.started_at))
    return [dict(row) for row in rows.mappings()]


# -- single-use stream tickets ---------------------------------------------------------------


def spend_ticket(conn: Connection, jti: str, expires_at: dt.datetime) -> None:
    """Record a ticket as used. A ticket already used (by any process) violates the
    primary key: the caller treats that IntegrityError as "already used"."""
    conn.execute(insert(used_tickets).values(jti=jti, expires_at=expires_at))


def prune_tickets(conn: Connection) -> int:
    return conn.execute(delete(used_tickets).where(used_tickets.c.expires_at < utcnow())).rowcount
