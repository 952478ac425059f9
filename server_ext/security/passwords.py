"""Password hashing with bcrypt, and the rules a password must meet.

bcrypt reads at most 72 bytes; a longer password is refused rather than silently cut,
so that two passwords sharing their first 72 bytes are never the same password.
"""

from __future__ import annotations

import secrets

import bcrypt

from ..errors import validation

MIN_LENGTH = 8
MAX_BYTES = 72


def check_password_rules(password: object, field: str = "password") -> str:
    """Return the password if it is acceptable, else raise VALIDATION_FAILED."""
    if not isinstance(password, str):
        raise validation(f"{field} must be a string", field=field)
    if len(password) < MIN_LENGTH:
        raise validation(f"{field} must have at least {MIN_LENGTH} characters", field=field)
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise validation(f"{field} is too long: at most {MAX_BYTES} bytes (UTF-8)", field=field)
    return password


def hash_password(password: str, cost: int) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=cost)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Constant-time check; False for anything that cannot match (too long, bad hash)."""
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        # Still spend the time, so that the answer's timing says nothing.
        encoded = encoded[:MAX_BYTES]
        bcrypt.checkpw(encoded, password_hash.encode("ascii"))
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:
        return False


def dummy_hash(cost: int) -> str:
    """A hash of a random password, checked against when an email is unknown so that
    an unknown email takes as long as a wrong password."""
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost)).decode("ascii")


def generate_password() -> str:
    return secrets.token_urlsafe(18)
