"""Built-in scorers: what each checks, its options, and its verdict on one reply.

Pure, except ``regex``, whose matching runs in a separate process (``regex_worker.py``)
with a time limit, so that a catastrophic pattern cannot hang the server. A scorer spec
is JSON::

    {"kind": "contains", "text": "Paris" | ["Paris", "France"], "case_sensitive": false}
    {"kind": "regex", "pattern": "\\\\d{4}", "flags": "i"}       # flags from "ims"
    {"kind": "equals", "expected": "42", "case_sensitive": true, "strip": true}
    {"kind": "json_valid"}
    {"kind": "json_schema", "schema": {...}}                    # JSON Schema 2020-12
    {"kind": "length", "min": 10, "max": 500, "unit": "chars"}  # or "words"
    {"kind": "judge", "model": "name" | id, "rubric": "...", "reference": "..."}

plus an optional ``name`` (letters, digits and underscores; the kind by default): the
name its scores are stored under, and their column ``score_<name>``. ``equals`` may
take its expected value, and ``judge`` its reference, per result instead (the "cases"
of a scoring request). The checks pass (1.0) or fail (0.0); ``judge`` gives a value in
[0, 1] and a rationale (``services/judge.py``). A JSON reply may come inside one
Markdown code fence, as models often write it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from ..errors import validation

KINDS = ("contains", "regex", "equals", "json_valid", "json_schema", "length", "judge")
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
MAX_TEXT = 10_000
MAX_PATTERN = 1_000
# Only this much of a reply is searched by a regex (a bound on the worst case).
MAX_REGEX_INPUT = 20_000
MAX_RATIONALE = 2_000
_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*)\n```$", re.DOTALL)


@dataclass(frozen=True)
class Scorer:
    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    value: float
    passed: bool | None
    rationale: str | None = None


def _pass(ok: bool, why: str | None = None) -> Verdict:
    return Verdict(1.0 if ok else 0.0, ok, why)


def _text_option(spec: dict[str, Any], name: str, *, required: bool, limit: int = MAX_TEXT):
    value = spec.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise validation(
            f"scorer.{name} must be text of 1 to {limit} characters", field=f"scorer.{name}"
        )
    return value


def _flag(spec: dict[str, Any], name: str, default: bool) -> bool:
    value = spec.get(name, default)
    if not isinstance(value, bool):
        raise validation(f"scorer.{name} must be true or false", field=f"scorer.{name}")
    return value


def _count(spec: dict[str, Any], name: str) -> int | None:
    value = spec.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
        raise validation(f"scorer.{name} must be a whole number", field=f"scorer.{name}")
    return value


OPTIONS = {
    "contains": {"text", "case_sensitive"},
    "regex": {"pattern", "flags"},
    "equals": {"expected", "case_sensitive", "strip"},
    "json_valid": set(),
    "json_schema": {"schema"},
    "length": {"min", "max", "unit"},
    "judge": {"model", "rubric", "reference"},
}


def parse_scorer(spec: Any) -> Scorer:
    """A scorer from its JSON spec, or VALIDATION_FAILED naming the bad option."""
    if not isinstance(spec, dict):
        raise validation("scorer must be an object with a kind", field="scorer")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise validation(f"scorer.kind must be one of {', '.join(KINDS)}", field="scorer.kind")
    unknown = sorted(set(spec) - OPTIONS[kind] - {"kind", "name"})
    if unknown:
        raise validation(f"{kind} takes no option {unknown[0]!r}", field=f"scorer.{unknown[0]}")
    name = spec.get("name", kind)
    if not isinstance(name, str) or not NAME.match(name):
        raise validation(
            "scorer.name must be a letter then letters, digits or underscores (64 at most)",
            field="scorer.name",
        )
    options: dict[str, Any] = {}
    if kind == "contains":
        texts = spec.get("text")
        texts = [texts] if isinstance(texts, str) else texts
        if (
            not isinstance(texts, list)
            or not 0 < len(texts) <= 100
            or not all(isinstance(t, str) and 0 < len(t) <= MAX_TEXT for t in texts)
        ):
            raise validation("scorer.text must be text or a list of texts", field="scorer.text")
        options = {"texts": texts, "case_sensitive": _flag(spec, "case_sensitive", False)}
    elif kind == "regex":
        pattern = _text_option(spec, "pattern", required=True, limit=MAX_PATTERN)
        flags = spec.get("flags", "")
        if not isinstance(flags, str) or set(flags) - set("ims"):
            raise validation('scorer.flags must be made of "i", "m" and "s"', field="scorer.flags")
        try:
            re.compile(pattern, _re_flags(flags))
        except re.error as exc:
            raise validation(
                f"scorer.pattern is not a valid regex: {exc}", field="scorer.pattern"
            ) from None
        options = {"pattern": pattern, "flags": flags}
    elif kind == "equals":
        expected = spec.get("expected")
        if expected is not None and not isinstance(expected, str | int | float):
            raise validation("scorer.expected must be text or a number", field="scorer.expected")
        options = {
            "expected": expected,
            "case_sensitive": _flag(spec, "case_sensitive", True),
            "strip": _flag(spec, "strip", True),
        }
    elif kind == "json_schema":
        schema = spec.get("schema")
        if not isinstance(schema, dict) or len(json.dumps(schema)) > 65_536:
            raise validation("scorer.schema must be a JSON Schema object", field="scorer.schema")
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise validation(
                f"scorer.schema is not a valid JSON Schema: {exc.message[:200]}",
                field="scorer.schema",
            ) from None
        options = {"schema": schema}
    elif kind == "length":
        low, high, unit = _count(spec, "min"), _count(spec, "max"), spec.get("unit", "chars")
        if low is None and high is None:
            raise validation("length needs a min, a max or both", field="scorer.min")
        if low is not None and high is not None and high < low:
            raise validation("scorer.max is below scorer.min", field="scorer.max")
        if unit not in ("chars", "words"):
            raise validation('scorer.unit must be "chars" or "words"', field="scorer.unit")
        options = {"min": low, "max": high, "unit": unit}
    elif kind == "judge":
        model = spec.get("model")
        if isinstance(model, bool) or not isinstance(model, str | int) or model in ("", 0):
            raise validation("scorer.model must be a model's name or id", field="scorer.model")
        options = {
            "model": model,
            "rubric": _text_option(spec, "rubric", required=True),
            "reference": _text_option(spec, "reference", required=False),
        }
    return Scorer(name, kind, options)


def _re_flags(flags: str) -> int:
    return (
        (re.IGNORECASE if "i" in flags else 0)
        | (re.MULTILINE if "m" in flags else 0)
        | (re.DOTALL if "s" in flags else 0)
    )


def unfenced(reply: str) -> str:
    """The reply without surrounding whitespace and one enclosing code fence."""
    text = reply.strip()
    found = _FENCE.match(text)
    return found.group(1).strip() if found else text


def check(scorer: Scorer, reply: str, case: dict[str, Any]) -> Verdict:
    """The verdict of a check scorer (not regex, not judge) on one reply; ``case`` holds
    per-result values (``expected``)."""
    o = scorer.options
    if scorer.kind == "contains":
        haystack = reply if o["case_sensitive"] else reply.casefold()
        missing = [
            t for t in o["texts"] if (t if o["case_sensitive"] else t.casefold()) not in haystack
        ]
        return _pass(not missing, f"missing {missing[0]!r}"[:MAX_RATIONALE] if missing else None)
    if scorer.kind == "equals":
        expected = case.get("expected", o["expected"])
        if expected is None:
            raise validation(
                "equals needs an expected value, in the scorer or for each result",
                field="scorer.expected",
            )
        got, want = reply, str(expected)
        if o["strip"]:
            got, want = got.strip(), want.strip()
        if not o["case_sensitive"]:
            got, want = got.casefold(), want.casefold()
        return _pass(got == want)
    if scorer.kind == "json_valid":
        try:
            json.loads(unfenced(reply))
        except ValueError as exc:
            return _pass(False, f"not JSON: {exc}"[:MAX_RATIONALE])
        return _pass(True)
    if scorer.kind == "json_schema":
        try:
            document = json.loads(unfenced(reply))
        except ValueError as exc:
            return _pass(False, f"not JSON: {exc}"[:MAX_RATIONALE])
        error = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(o["schema"]).iter_errors(document)
        )
        return _pass(error is None, error.message[:MAX_RATIONALE] if error else None)
    if scorer.kind == "length":
        size = len(reply.split()) if o["unit"] == "words" else len(reply)
        ok = (o["min"] is None or size >= o["min"]) and (o["max"] is None or size <= o["max"])
        return _pass(ok, f"{size} {o['unit']}")
    raise ValueError(f"{scorer.kind} is not a plain check")
