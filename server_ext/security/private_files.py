"""Files only their owner may read: generated keys and the quick start's credentials."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from pathlib import Path


def _temporary(path: Path, data: bytes) -> Path:
    """``data`` in a new 0600 file beside ``path``, under a name no other process uses."""
    path.parent.mkdir(parents=True, exist_ok=True)
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
