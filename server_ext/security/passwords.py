"""Password hashing with bcrypt, and the rules a password must meet.

bcrypt reads at most 72 bytes; a longer password is refused rather than silently cut,
so that two passwords sharing their first 72 bytes are never the same password.

A check takes the time of the configured cost whatever the stored hash's cost
(:func:`verify_at_cost`): a hash made at a lower cost is topped up with checks against
dummy hashes, so that an old account answers as fast as a new one and as an unknown email.
"""

from __future__ import annotations

import functools
import re
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


_COST = re.compile(r"^\$2[abxy]?\$(\d\d)\$")


def cost_of(password_hash: str) -> int | None:
    """The cost a bcrypt hash was made with, None if it is not a bcrypt hash."""
    match = _COST.match(password_hash)
    return int(match.group(1)) if match else None


def verify_at_cost(password: str, password_hash: str, cost: int) -> bool:
    """:func:`verify_password`, taking as long as a check at ``cost`` when the hash was
    made at a lower one. bcrypt's work doubles with each step of cost, so a hash at cost
    ``c`` topped up with one check at each of ``c .. cost-1`` does the work of ``cost``."""
    stored = cost_of(password_hash)
    if stored is None:  # not a bcrypt hash: nothing can match, but spend the time
        verify_password(password, _dummy_at(cost))
        return False
    matches = verify_password(password, password_hash)
    for step in range(max(stored, 4), cost):
        verify_password(password, _dummy_at(step))
    return matches


@functools.cache
def _dummy_at(cost: int) -> str:
    return dummy_hash(cost)


def dummy_hash(cost: int) -> str:
    """A hash of a random password, checked against when an email is unknown so that
    an unknown email takes as long as a wrong password."""
    return bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=cost)).decode("ascii")


def generate_password() -> str:
    return secrets.token_urlsafe(18)
