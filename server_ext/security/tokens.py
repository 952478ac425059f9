"""Issuing and verifying ChatMore's JWTs (DESIGN §7).

RS256 only, and the verifier pins it: the algorithm is never read from the token.
``none``, HS*, and tokens whose header brings a key (``jku``, ``jwk``, ``x5u``, ``x5c``)
are refused; ``kid`` only picks a key from the local keyring. Every token carries
iss, aud, sub, iat, exp, jti and a ``type`` (access, refresh or stream) that each
verifier checks, so that no kind of token is accepted as another. ``iat_ms`` (the issue
time in milliseconds) lets a user's "tokens valid after" time cut finer than iat's second.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from ..errors import ChatMoreError
from ..services.validation import path_id
from .keys import Keyring

TokenType = Literal["access", "refresh", "stream"]

ALGORITHM = "RS256"
FORBIDDEN_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c"})
REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti", "type"]
# Clock skew tolerated between issuing and verifying hosts.
LEEWAY_SECONDS = 5
# Access tokens already verified, kept until they expire: a client sends the same token
# with every request, and checking its RSA signature each time is the larger part of
# authenticating one (about 0.1 ms).
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Issued:
    token: str
    jti: str
    expires_at: float  # unix time
    ttl: float


def new_id() -> str:
    return secrets.token_urlsafe(18)


class TokenService:
    def __init__(self, keyring: Keyring, issuer: str, audience: str) -> None:
        self._keyring = keyring
        self._issuer = issuer
        self._audience = audience
        self._verified: dict[str, dict[str, Any]] = {}

    def issue(
        self,
        kind: TokenType,
        subject: str,
        ttl: float,
        claims: dict[str, Any] | None = None,
        *,
        jti: str | None = None,
        expires_at: int | None = None,
    ) -> Issued:
        """A signed token; ``jti`` and ``expires_at`` re-issue a stored refresh token."""
        clock = time.time()
        now = int(clock)
        jti = jti or new_id()
        exp = expires_at if expires_at is not None else now + int(ttl)
        payload = {
            **(claims or {}),
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": now,
            "iat_ms": int(clock * 1000),
            "exp": exp,
            "jti": jti,
            "type": kind,
        }
        token = jwt.encode(
            payload,
            self._keyring.signing_key,
            algorithm=ALGORITHM,
            headers={"kid": self._keyring.signing_kid},
        )
        return Issued(token=token, jti=jti, expires_at=exp, ttl=exp - now)

    def verify(self, token: str, kind: TokenType) -> dict[str, Any]:
        """The claims of a valid token of this kind; AUTH_TOKEN_EXPIRED for an expired
        one and AUTH_TOKEN_INVALID for anything else wrong with it."""
        cached = self._verified.get(token) if kind == "access" else None
        if cached is not None:
            if cached["exp"] + LEEWAY_SECONDS < time.time():
                self._verified.pop(token, None)
                raise ChatMoreError("AUTH_TOKEN_EXPIRED")
            return cached
        claims = self._verify(token, kind)
        if kind == "access":
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        return claims

    def _verify(self, token: str, kind: TokenType) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > 8192:
            raise _invalid()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise _invalid() from None
        if header.get("alg") != ALGORITHM or FORBIDDEN_HEADERS & header.keys():
            raise _invalid()
        key = self._keyring.public_keys.get(str(header.get("kid", "")))
        if key is None:
            raise _invalid()
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise ChatMoreError("AUTH_TOKEN_EXPIRED") from None
        except jwt.InvalidTokenError:
            raise _invalid() from None
        if claims.get("type") != kind:
            raise _invalid(f"this is not a {kind} token")
        # Every subject ChatMore issues is a user id; anything else is not its token.
        if not isinstance(claims["sub"], str) or path_id(claims["sub"]) is None:
            raise _invalid()
        return claims


def _invalid(message: str | None = None) -> ChatMoreError:
    return ChatMoreError("AUTH_TOKEN_INVALID", message)
