"""The database handle: one SQLAlchemy engine and a bounded thread pool.

SQLAlchemy with pysqlite/pymysql is blocking, so every store call runs in the pool via
:meth:`Database.read` or :meth:`Database.write`, never on the event loop. Store
functions take a ``Connection`` and return plain data; they never commit themselves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from ..security.private_files import private_sqlite_file

PING_TIMEOUT = 5.0

P = ParamSpec("P")
T = TypeVar("T")


def utcnow() -> dt.datetime:
    """The store's notion of now: naive UTC, microsecond precision."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def create_db_engine(url: str, pool_size: int = 8) -> Engine:
    """An engine tuned for the backend.

    SQLite: WAL, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for write
    transactions so that two writers queue instead of failing with "database is locked".
    MySQL: utf8mb4 (set by the URL), pre-ping and recycling so that pooled connections
    survive a database restart.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            private_sqlite_file(Path(database))
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=4,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _tune_sqlite(engine)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "read_timeout": 60, "write_timeout": 60},
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


# MySQL / MariaDB: 1213 deadlock victim, 1205 lock wait timeout.
DEADLOCK_CODES = {1213, 1205}
DEADLOCK_RETRIES = 3


def _is_deadlock(exc: BaseException) -> bool:
    """Whether the database aborted the transaction to break a deadlock. Inside a
    savepoint the deadlock comes first and the failed ROLLBACK TO SAVEPOINT after it
    (MySQL rolled the whole transaction back, savepoints with it): look down the chain."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        args = getattr(getattr(seen, "orig", None) or seen, "args", ())
        if args and args[0] in DEADLOCK_CODES:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def describe_db_error(exc: BaseException) -> str:
    """A short, secret-free reason: the driver's message, never the URL or a password."""
    if isinstance(exc, TimeoutError):
        return f"the database did not answer within {PING_TIMEOUT:g} seconds"
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    text = str(args[-1]) if args else type(orig).__name__
    return f"{type(orig).__name__}: {text}"[:200]


def plain_rows(conn: Connection, query: Any) -> list[Any]:
    """The driver's own tuples of ``query``, without SQLAlchemy's row objects (a quarter
    of the time on large reads). Only for columns that need no result processing: the
    values come as the driver gives them (SQLite: dates and times as text, JSON as text;
    MySQL: BLOBs as bytes, SUMs as Decimal)."""
    result = conn.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


class Database:
    """Runs store functions in a bounded thread pool, each in its own transaction."""

    def __init__(self, url: str, threads: int = 8) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool_size=threads)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chatmore-db")

    # -- synchronous API (CLI, start-up, tests) --------------------------------------------

    def read_sync(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn, *args, **kwargs)

    def write_sync(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` in a write transaction. A transaction the database aborted to break
        a deadlock is run again (it was rolled back whole), a few times at most."""
        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                with self.engine.connect() as conn:
                    if self.is_sqlite:
                        conn.execution_options(sqlite_begin="IMMEDIATE")
                    with conn.begin():
                        return fn(conn, *args, **kwargs)
            except OperationalError as exc:
                if attempt == DEADLOCK_RETRIES or not _is_deadlock(exc):
                    raise
                time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- asynchronous API (the server) -----------------------------------------------------

    async def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, *args)`` in a read transaction in the pool."""
        return await self._in_pool(self.read_sync, fn, *args, **kwargs)

    async def write(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, *args)`` in a write transaction in the pool; commits on return."""
        return await self._in_pool(self.write_sync, fn, *args, **kwargs)

    async def _in_pool(self, runner: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(runner, *args, **kwargs))

    def ping_sync(self) -> None:
        """Raise if the database does not answer a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def ping(self) -> None:
        """Raise if the database does not answer within :data:`PING_TIMEOUT` seconds."""
        async with asyncio.timeout(PING_TIMEOUT):
            await self._in_pool(self.ping_sync)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
        self.engine.dispose()
