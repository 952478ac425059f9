"""Queries on prompt templates: a user sees their own and the shared ones; only the
owner changes one (services/templates.py lets admins change shared ones too)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from .db import utcnow
from .tables import prompt_templates


class NameTaken(Exception):
    pass


def _visible(user_id: int) -> Any:
    return or_(prompt_templates.c.user_id == user_id, prompt_templates.c.shared.is_(True))


def list_templates(conn: Connection, user_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(prompt_templates)
        .where(_visible(user_id))
        .order_by(prompt_templates.c.name, prompt_templates.c.id)
    ).mappings()
    return [dict(row) for row in rows]


def get_template(conn: Connection, user_id: int, template_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(prompt_templates).where(prompt_templates.c.id == template_id, _visible(user_id))
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def insert_template(
    conn: Connection, *, user_id: int, name: str, body: str, shared: bool
) -> dict[str, Any]:
    now = utcnow()
    try:
        with conn.begin_nested():
            template_id = conn.execute(
                insert(prompt_templates).values(
                    user_id=user_id,
                    name=name,
                    body=body,
                    shared=shared,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
    except IntegrityError:
        raise NameTaken(name) from None
    found = get_template(conn, user_id, int(template_id))
    assert found is not None
    return found


def update_template(conn: Connection, template_id: int, changes: dict[str, Any]) -> None:
    try:
        with conn.begin_nested():
            conn.execute(
                update(prompt_templates)
                .where(prompt_templates.c.id == template_id)
                .values(**changes, updated_at=utcnow())
            )
    except IntegrityError:
        raise NameTaken(changes.get("name")) from None


def delete_template(conn: Connection, template_id: int) -> None:
    conn.execute(delete(prompt_templates).where(prompt_templates.c.id == template_id))
