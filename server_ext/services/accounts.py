"""Accounts: creating users, with the rules every way of creating one shares."""

from __future__ import annotations

import re
from typing import Any

from ..errors import ChatMoreError, validation
from ..security.passwords import check_password_rules, hash_password
from ..store import users as user_store
from ..store.db import Database

ROLES = ("admin", "user")
# Also the pattern of the API description's email fields (a JSON Schema regex too).
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,189}$"
_EMAIL = re.compile(EMAIL_PATTERN)


def normalise_email(email: object) -> str:
    """Trimmed and lower-cased; VALIDATION_FAILED if it cannot be an address."""
    if not isinstance(email, str):
        raise validation("email must be a string", field="email")
    cleaned = email.strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise validation("email is not a valid address", field="email")
    return cleaned


def clean_display_name(name: object, email: str) -> str:
    if name is None or name == "":
        return email.split("@", 1)[0]
    if not isinstance(name, str) or len(name.strip()) > 200:
        raise validation("display_name must be a string of at most 200 characters")
    return name.strip()


def create_user_sync(
    db: Database,
    *,
    email: object,
    password: object,
    display_name: object = None,
    role: str = "user",
    bcrypt_cost: int,
) -> dict[str, Any]:
    """Validate, hash and insert (blocking: bcrypt and the insert run on this thread)."""
    address = normalise_email(email)
    secret = check_password_rules(password)
    if role not in ROLES:
        raise validation(f"role must be one of {', '.join(ROLES)}", field="role")
    name = clean_display_name(display_name, address)
    password_hash = hash_password(secret, bcrypt_cost)
    try:
        return db.write_sync(
            user_store.insert_user,
            email=address,
            password_hash=password_hash,
            display_name=name,
            role=role,
        )
    except user_store.EmailTaken:
        raise ChatMoreError("AUTH_EMAIL_TAKEN") from None
