"""Model management: the upstream models ChatMore can call, their keys and defaults.

Admins create and change models; every signed-in user lists the enabled ones. API keys
are stored encrypted (``security/secret_box.py``) and never leave the server: answers
say only whether a key is set and its last four characters (to admins).
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import ChatMoreError, validation
from ..security.secret_box import SecretBox, SecretUnreadable
from ..security.url_policy import validate_base_url
from ..store import models as model_store
from ..store.db import Database
from .circuits import CircuitBreakers
from .params import DEFAULT_TIMEOUT_MS, clean_params
from .pricing import clean_pricing, public_pricing
from .provider_client import ProbeResult, ProviderClient, ProviderTarget

log = logging.getLogger("chatmore.models")

DEMO_PROVIDER = "chatmore-demo"
# A model that never failed.
CLOSED = {"state": "closed", "failures": 0, "opened_at": None, "retry_at": None}
TEXT_FIELDS = {"name": 200, "provider_name": 100, "upstream_model": 200, "notes": 2000}
REQUIRED = ("name", "base_url", "upstream_model")
WRITABLE = {*TEXT_FIELDS, "base_url", "api_key", "default_params", "enabled", "pricing"}


def public_model(row: dict[str, Any], *, admin: bool) -> dict[str, Any]:
    """A model as the API shows it; the key itself never appears."""
    shown = {
        "id": row["id"],
        "name": row["name"],
        "provider_name": row["provider_name"],
        "base_url": row["base_url"],
        "upstream_model": row["upstream_model"],
        "default_params": row["default_params"] or {},
        "enabled": bool(row["enabled"]),
        "notes": row["notes"],
        "pricing": public_pricing(row),
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if admin:
        shown["api_key"] = {
            "set": row["api_key_enc"] is not None,
            "last4": row["api_key_hint"],
        }
    return shown


class ModelService:
    def __init__(self, db: Database, box: SecretBox, client: ProviderClient) -> None:
        self.db = db
        self.box = box
        self.client = client
        # Per-model circuit breakers (services/circuits.py), set by the runtime: their
        # state shows in the model list.
        self.circuits: CircuitBreakers | None = None

    # -- reading ------------------------------------------------------------------------

    async def list(self, *, admin: bool) -> list[dict[str, Any]]:
        rows = await self.db.read(model_store.list_models, enabled_only=not admin)
        states = await self.circuits.states() if self.circuits else {}
        return [
            {**public_model(row, admin=admin), "circuit": states.get(row["id"], CLOSED)}
            for row in rows
        ]

    async def get(self, model_id: int, *, admin: bool) -> dict[str, Any]:
        row = await self.db.read(model_store.get_model, model_id)
        if row is None or (not admin and not row["enabled"]):
            raise ChatMoreError("MODEL_NOT_FOUND")
        return public_model(row, admin=admin)

    # -- writing ------------------------------------------------------------------------

    def _values(self, body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        unknown = sorted(set(body) - WRITABLE)
        if unknown:
            raise validation(f"unknown fields {unknown}", fields=unknown)
        if creating:
            missing = [name for name in REQUIRED if not body.get(name)]
            if missing:
                raise validation(f"missing {', '.join(missing)}", fields=missing)
        values: dict[str, Any] = {}
        for name, limit in TEXT_FIELDS.items():
            if name in body:
                value = body[name]
                if value is None and name in ("notes", "provider_name"):
                    value = "" if name == "provider_name" else None
                elif not isinstance(value, str) or len(value.strip()) > limit:
                    raise validation(f"{name} must be text of at most {limit} characters")
                elif name in REQUIRED and not value.strip():
                    raise validation(f"{name} must not be empty", field=name)
                values[name] = value.strip() if isinstance(value, str) else value
        if "base_url" in body:
            values["base_url"] = validate_base_url(body["base_url"])
        if "default_params" in body or creating:
            values["default_params"] = clean_params(body.get("default_params"), "default_params")
        if "enabled" in body:
            if not isinstance(body["enabled"], bool):
                raise validation("enabled must be true or false", field="enabled")
            values["enabled"] = body["enabled"]
        if "api_key" in body:
            values.update(self._key_columns(body["api_key"]))
        if "pricing" in body:
            values.update(clean_pricing(body["pricing"]))
        return values

    def _key_columns(self, key: object) -> dict[str, Any]:
        if key is None or key == "":
            return {"api_key_enc": None, "api_key_hint": None}
        if not isinstance(key, str) or len(key) > 4096 or any(c.isspace() for c in key):
            raise validation("api_key must be a single-line string", field="api_key")
        return {"api_key_enc": self.box.encrypt(key), "api_key_hint": key[-4:]}

    async def create(self, body: dict[str, Any]) -> dict[str, Any]:
        values = self._values(body, creating=True)
        values.setdefault("provider_name", "")
        values.setdefault("enabled", True)
        try:
            row = await self.db.write(model_store.insert_model, values)
        except model_store.NameTaken:
            raise ChatMoreError("MODEL_NAME_TAKEN", field="name") from None
        return public_model(row, admin=True)

    async def update(self, model_id: int, body: dict[str, Any]) -> dict[str, Any]:
        values = self._values(body, creating=False)
        if not values:
            raise validation("nothing to change")
        try:
            row = await self.db.write(model_store.update_model, model_id, values)
        except model_store.NameTaken:
            raise ChatMoreError("MODEL_NAME_TAKEN", field="name") from None
        if row is None:
            raise ChatMoreError("MODEL_NOT_FOUND")
        return public_model(row, admin=True)

    # -- calling ------------------------------------------------------------------------

    def target(self, row: dict[str, Any]) -> ProviderTarget:
        """How to call a model: its URL, model name, total time and decrypted key."""
        api_key = None
        if row["api_key_enc"] is not None:
            try:
                api_key = self.box.decrypt(row["api_key_enc"])
            except SecretUnreadable as exc:
                log.error("API key of model %s is unreadable: %s", row["id"], exc)
                raise ChatMoreError(
                    "MODEL_KEY_UNREADABLE",
                    f"the API key of model {row['name']!r} cannot be decrypted; "
                    "set it again or configure the key it was encrypted with",
                ) from None
        timeout_ms = (row["default_params"] or {}).get("timeout_ms", DEFAULT_TIMEOUT_MS)
        return ProviderTarget(
            base_url=row["base_url"],
            api_key=api_key,
            model=row["upstream_model"],
            timeout_s=timeout_ms / 1000,
        )

    async def test(self, model_id: int) -> ProbeResult:
        row = await self.db.read(model_store.get_model, model_id)
        if row is None:
            raise ChatMoreError("MODEL_NOT_FOUND")
        try:
            target = self.target(row)
        except ChatMoreError as exc:
            return ProbeResult(False, 0, {"code": exc.code, "message": exc.message})
        return await self.client.probe(target)

    # -- the quick start's demo models --------------------------------------------------

    async def ensure_demo_models(self, demo_base_url: str) -> None:
        """Register the demo provider's models on first start; on later starts only keep
        their URL pointing at this server (its port can change). Models an admin removed
        from the demo provider or disabled stay so."""
        from ..demo_provider import DEMO_MODELS

        existing = await self.db.read(model_store.find_by_provider, DEMO_PROVIDER)
        if not existing:
            for spec in DEMO_MODELS:
                try:
                    await self._insert_demo(spec, demo_base_url)
                except model_store.NameTaken:
                    log.warning("a model named %r exists; demo model not added", spec["name"])
        for row in existing:
            if row["base_url"] != demo_base_url:
                await self.db.write(
                    model_store.update_model, row["id"], {"base_url": demo_base_url}
                )

    async def _insert_demo(self, spec: dict[str, Any], base_url: str) -> None:
        await self.db.write(
            model_store.insert_model,
            {
                "name": spec["name"],
                "provider_name": DEMO_PROVIDER,
                "base_url": base_url,
                "upstream_model": spec["upstream_model"],
                "default_params": spec.get("default_params", {}),
                "notes": spec.get("notes"),
                "enabled": True,
            },
        )


def reencrypt_keys_sync(db: Database, box: SecretBox) -> tuple[int, int]:
    """Re-encrypt every stored API key with the active key (blocking; for the CLI after a
    key rotation). Returns (re-encrypted, unreadable); unreadable ones are left as they
    are and reported, never blanked."""
    done = unreadable = 0
    for model_id, stored in db.read_sync(model_store.encrypted_keys):
        if box.kid_of(stored) == box.active_kid:
            continue
        try:
            plain = box.decrypt(stored)
        except SecretUnreadable:
            unreadable += 1
            continue
        db.write_sync(model_store.set_encrypted_key, model_id, box.encrypt(plain))
        done += 1
    return done, unreadable
