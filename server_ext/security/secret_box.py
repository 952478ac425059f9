"""Provider API keys at rest: AES-256-GCM, a fresh nonce per write, the key id inside.

A stored value reads ``v1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The keys come
from ``CHATMORE_SECRET_KEY`` (comma-separated ``kid:base64`` pairs, the first one
active) or from ``<data_dir>/secret_keys.json``, generated on first start with 0600.
Every key of the ring decrypts; only the active one encrypts, so a key can be rotated
(``chatmore keys rotate``) and old values re-encrypted (``chatmore keys reencrypt``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .private_files import create_private, write_private

VERSION = "v1"
NONCE_BYTES = 12
# Binds ciphertexts to their purpose: a value cut from elsewhere does not decrypt here.
ASSOCIATED_DATA = b"chatmore:provider-api-key"
KEYS_FILE = "secret_keys.json"


class SecretUnreadable(Exception):
    """A stored value cannot be decrypted with the keys at hand (said without the value)."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def new_kid() -> str:
    return "k" + secrets.token_hex(4)


@dataclass(frozen=True)
class SecretBox:
    active_kid: str
    keys: dict[str, bytes]

    @classmethod
    def from_config(cls, configured: str) -> SecretBox:
        """Parse ``kid:base64[,kid:base64…]``; raises ValueError naming what is wrong."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in configured.split(",") if p.strip()):
            kid, sep, encoded = part.partition(":")
            if not sep or not kid:
                raise ValueError("each key is written kid:base64")
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                key = _b64decode(encoded)
            if len(key) != 32:
                raise ValueError(f"key {kid} is {len(key)} bytes, not 32")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise ValueError("no key given")
        return cls(order[0], keys)

    @classmethod
    def load(cls, data_dir: Path, configured: str = "") -> SecretBox:
        if configured:
            return cls.from_config(configured)
        path = data_dir / KEYS_FILE
        if not path.is_file():
            kid = new_kid()
            box = cls(kid, {kid: AESGCM.generate_key(bit_length=256)})
            # Two processes starting together keep whichever key was written first.
            if create_private(path, box._to_json()):
                return box
        data = json.loads(path.read_text())
        return cls(data["active"], {k: _b64decode(v) for k, v in data["keys"].items()})

    def _to_json(self) -> bytes:
        keys = {k: _b64encode(v) for k, v in self.keys.items()}
        return json.dumps({"active": self.active_kid, "keys": keys}, indent=2).encode()

    def save(self, data_dir: Path) -> None:
        write_private(data_dir / KEYS_FILE, self._to_json())

    def rotated(self) -> SecretBox:
        """A ring with a new active key; the old keys still decrypt."""
        kid = new_kid()
        return SecretBox(kid, {**self.keys, kid: AESGCM.generate_key(bit_length=256)})

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.active_kid]).encrypt(
            nonce, plaintext.encode("utf-8"), ASSOCIATED_DATA
        )
        return f"{VERSION}:{self.active_kid}:{_b64encode(nonce + sealed)}"

    def decrypt(self, stored: str) -> str:
        try:
            version, kid, payload = stored.split(":", 2)
        except ValueError:
            raise SecretUnreadable("not a ChatMore secret") from None
        if version != VERSION:
            raise SecretUnreadable(f"unknown format {version!r}")
        key = self.keys.get(kid)
        if key is None:
            raise SecretUnreadable(f"encrypted with key {kid!r}, which is not configured")
        try:
            raw = _b64decode(payload)
            plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], ASSOCIATED_DATA)
        except (InvalidTag, ValueError):
            raise SecretUnreadable(f"does not decrypt with key {kid!r}") from None
        return plain.decode("utf-8")

    def kid_of(self, stored: str) -> str | None:
        parts = stored.split(":", 2)
        return parts[1] if len(parts) == 3 else None
