"""The RSA keyring that signs and verifies ChatMore's JWTs.

The signing key comes from ``JWT_PRIVATE_KEY_FILE`` or is generated on first start into
``<data_dir>/jwt/signing.pem`` (0600) and reused afterwards. Every key is known by its
``kid``, a thumbprint of its public key; a token's ``kid`` header only selects a key
from this local ring, never brings one. Older keys placed in ``<data_dir>/jwt/`` as
``*.pem`` keep verifying tokens they signed, so the signing key can be rotated.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .private_files import create_private

KEY_BITS = 2048


def kid_of(public_key: rsa.RSAPublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:12]).decode().rstrip("=")


def _load_private(path: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise ValueError(f"{path} is not an RSA private key of at least 2048 bits")
    return key


def _generate(path: Path) -> rsa.RSAPrivateKey:
    """A new signing key at ``path``, or the one another process made there first."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key if create_private(path, pem) else _load_private(path)


@dataclass(frozen=True)
class Keyring:
    signing_kid: str
    signing_key: rsa.RSAPrivateKey
    public_keys: dict[str, rsa.RSAPublicKey]

    @classmethod
    def load(cls, data_dir: Path, private_key_file: str = "") -> Keyring:
        folder = data_dir / "jwt"
        if private_key_file:
            signing = _load_private(Path(private_key_file))
        else:
            path = folder / "signing.pem"
            signing = _load_private(path) if path.is_file() else _generate(path)
        public = {kid_of(signing.public_key()): signing.public_key()}
        if folder.is_dir():
            for pem in sorted(folder.glob("*.pem")):
                key = _load_private(pem).public_key()
                public.setdefault(kid_of(key), key)
        return cls(kid_of(signing.public_key()), signing, public)
