"""Files only their owner may read: generated keys, the quick start's credentials, the
SQLite database (and its -wal/-shm files) and the data directory that holds them."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# SQLite's companions of a database file; SQLite creates them with the database's mode.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700, or take group and other access
    away from it if it exists: it holds keys and, with SQLite, every conversation."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_DIR)
    return path


def private_sqlite_file(path: Path) -> None:
    """Make the database file 0600 before SQLite opens it (SQLite gives its -wal and
    -shm files the database's mode), and tighten a database and companions made
    before. A missing parent is created 0700; an existing one is left as it is (the
    database may sit in a shared folder the admin chose)."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for name in ("", *SQLITE_COMPANIONS):
        companion = path.with_name(path.name + name)
        with contextlib.suppress(FileNotFoundError):
            if companion.stat().st_mode & 0o077:
                companion.chmod(PRIVATE_FILE)


def _temporary(path: Path, data: bytes) -> Path:
    """``data`` in a new 0600 file beside ``path``, under a name no other process uses."""
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def write_private(path: Path, data: bytes) -> None:
    """Write (or replace) ``path`` with mode 0600, never readable by others even briefly."""
    os.replace(_temporary(path, data), path)


def create_private(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data`` (0600) unless it exists; False if another process
    created it first. Two servers starting together on one data directory thus agree
    on one generated key: the loser reads the winner's."""
    tmp = _temporary(path, data)
    try:
        os.link(tmp, path)  # atomic, and fails if the name is taken
    except FileExistsError:
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return True


def write_private_json(path: Path, value: object) -> None:
    write_private(path, json.dumps(value, indent=2).encode("utf-8"))
