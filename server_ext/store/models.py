"""Queries on configured models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import utcnow
from .tables import models


class NameTaken(Exception):
    pass


def insert_model(conn: Connection, values: dict[str, Any]) -> dict[str, Any]:
    now = utcnow()
    try:
        result = conn.execute(insert(models).values(**values, created_at=now, updated_at=now))
    except IntegrityError:
        raise NameTaken(values.get("name")) from None
    found = get_model(conn, result.inserted_primary_key[0])
    assert found is not None
    return found


def update_model(conn: Connection, model_id: int, values: dict[str, Any]) -> dict[str, Any] | None:
    try:
        result = conn.execute(
            update(models).where(models.c.id == model_id).values(**values, updated_at=utcnow())
        )
    except IntegrityError:
        raise NameTaken(values.get("name")) from None
    if result.rowcount == 0 and get_model(conn, model_id) is None:
        return None
    return get_model(conn, model_id)


def get_model(conn: Connection, model_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(models).where(models.c.id == model_id)).mappings().first()
    return dict(row) if row else None


def get_models(conn: Connection, model_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(select(models).where(models.c.id.in_(model_ids))).mappings()
    return {row["id"]: dict(row) for row in rows}


def list_models(conn: Connection, *, enabled_only: bool) -> list[dict[str, Any]]:
    query = select(models).order_by(models.c.name)
    if enabled_only:
        query = query.where(models.c.enabled.is_(True))
    return [dict(row) for row in conn.execute(query).mappings()]


def find_by_provider(conn: Connection, provider_name: str) -> list[dict[str, Any]]:
    query = select(models).where(models.c.provider_name == provider_name)
    return [dict(row) for row in conn.execute(query).mappings()]


def encrypted_keys(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(
        select(models.c.id, models.c.api_key_enc).where(models.c.api_key_enc.is_not(None))
    )
    return [(row.id, row.api_key_enc) for row in rows]


def set_encrypted_key(conn: Connection, model_id: int, value: str) -> None:
    conn.execute(update(models).where(models.c.id == model_id).values(api_key_enc=value))
