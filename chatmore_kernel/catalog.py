"""Models: listing them, finding one by name or id, and the admins' helpers.

Windows of a board or of :func:`ask` name their model by display name or id; this module
turns those into the server's window specs (``{"model_id", "name", "params",
"system_prompt"}``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from widgets.i18n import t

from .errors import ChatMoreError
from .frames import frame_from_records
from .http import ApiClient
from .schemas import MODELS

ModelRef = int | str
WINDOW_KEYS = frozenset({"model", "model_id", "name", "params", "system_prompt"})


def list_models(api: ApiClient, include_disabled: bool = False) -> list[dict[str, Any]]:
    """The models the caller can see; disabled ones only with ``include_disabled``
    (and only admins get them from the server at all)."""
    models = api.get("api/models")["models"]
    return [m for m in models if include_disabled or m.get("enabled")]


def models_frame(models: list[dict[str, Any]]) -> pd.DataFrame:
    records = [
        {
            **m,
            "provider": m.get("provider_name"),
            "circuit": (m.get("circuit") or {}).get("state", "closed"),
            **{k: (m.get("default_params") or {}).get(k) for k in _PARAM_COLUMNS},
            "input_price": (m.get("pricing") or {}).get("input"),
            "output_price": (m.get("pricing") or {}).get("output"),
            "currency": (m.get("pricing") or {}).get("currency"),
        }
        for m in models
    ]
    return frame_from_records(MODELS, records)


_PARAM_COLUMNS = ("temperature", "top_p", "max_tokens", "timeout_ms")


def find_model(
    models: list[dict[str, Any]], ref: ModelRef, *, what: str = "model"
) -> dict[str, Any]:
    """The model named ``ref`` (a display name, or an id when ``ref`` is an int)."""
    if isinstance(ref, bool) or not isinstance(ref, int | str):
        raise TypeError(f"a {what} is a model name or id, not {ref!r}")
    if isinstance(ref, int):
        found = [m for m in models if m["id"] == ref]
    else:
        found = [m for m in models if m["name"] == ref]
        if not found:  # be forgiving about case, never about ambiguity
            found = [m for m in models if m["name"].casefold() == ref.casefold()]
    if len(found) == 1:
        return found[0]
    names = ", ".join(repr(m["name"]) for m in models) or "none"
    raise ChatMoreError(
        "MODEL_NOT_FOUND", t("error.no_such_model", what=what, ref=repr(ref), names=names), 404
    )


def window_specs(
    api: ApiClient,
    models: ModelRef | Iterable[ModelRef] | None = None,
    windows: Iterable[Mapping[str, Any]] | None = None,
    params: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The server's window specs for ``models`` (one window each) and ``windows``
    (``{"model": name|id, "name", "params", "system_prompt"}``); ``params`` apply to
    every window under its own."""
    if isinstance(models, str | int):
        models = [models]
    wanted: list[Mapping[str, Any]] = [{"model": m} for m in (models or [])]
    for spec in windows or []:
        if isinstance(spec, str | int):
            spec = {"model": spec}
        if not isinstance(spec, Mapping):
            raise TypeError(f"a window is a dict or a model name, not {spec!r}")
        unknown = set(spec) - WINDOW_KEYS
        if unknown:
            raise TypeError(f"unknown window keys {sorted(unknown)}; use {sorted(WINDOW_KEYS)}")
        wanted.append(spec)
    if not wanted:
        raise ChatMoreError("VALIDATION_FAILED", t("error.no_models_named"), 400)
    available = list_models(api)
    specs = []
    for spec in wanted:
        ref = spec.get("model", spec.get("model_id"))
        model = find_model(available, ref)
        window: dict[str, Any] = {"model_id": model["id"]}
        merged = {**(params or {}), **(spec.get("params") or {})}
        if merged:
            window["params"] = merged
        for key in ("name", "system_prompt"):
            if spec.get(key) is not None:
                window[key] = spec[key]
        specs.append(window)
    return specs


# -- admins ------------------------------------------------------------------------------


def create_model(api: ApiClient, **fields: Any) -> dict[str, Any]:
    body = {k: v for k, v in fields.items() if v is not None}
    return api.post("api/models", body)


def update_model(api: ApiClient, model: ModelRef, changes: dict[str, Any]) -> dict[str, Any]:
    if not changes:
        raise ChatMoreError("VALIDATION_FAILED", t("error.nothing_to_change"), 400)
    target = find_model(list_models(api, include_disabled=True), model)
    return api.patch(f"api/models/{target['id']}", changes)


def get_model(api: ApiClient, model: ModelRef) -> dict[str, Any]:
    target = find_model(list_models(api, include_disabled=True), model)
    return api.get(f"api/models/{target['id']}")


def test_model(api: ApiClient, model: ModelRef) -> dict[str, Any]:
    target = find_model(list_models(api, include_disabled=True), model)
    return api.post(f"api/models/{target['id']}/test")
