"""Scorer specs for :func:`chatmore_kernel.score`: small dicts the server runs.

::

    import chatmore_kernel as cm
    from chatmore_kernel import scorers

    rows = cm.results(conversation=board)
    cm.score(rows, scorers.contains("Paris"))
    cm.score(rows, scorers.equals(column="expected"))          # per-row expected values
    cm.score(rows, scorers.json_schema({"type": "object"}))
    cm.score(rows, scorers.judge("Demo Sage", "Is it correct and concise?"))
    cm.score(rows, lambda row: len(row["reply"]) < 400, name="short")  # runs here

Each takes ``name=`` (default: its kind), the name of its scores and of their column
``score_<name>``. ``column=`` (equals) and ``reference_column=`` (judge) read a value per
row from the frame given to :func:`score`.
"""

from __future__ import annotations

from typing import Any


def _spec(kind: str, name: str | None, **options: Any) -> dict[str, Any]:
    spec = {"kind": kind, **{k: v for k, v in options.items() if v is not None}}
    if name is not None:
        spec["name"] = name
    return spec


def contains(text: str | list[str], case_sensitive: bool = False, name: str | None = None):
    """Passes when the reply contains the text (every text of a list)."""
    return _spec("contains", name, text=text, case_sensitive=case_sensitive)


def regex(pattern: str, flags: str = "", name: str | None = None) -> dict[str, Any]:
    """Passes when the pattern matches somewhere in the reply (``flags`` from "ims");
    matched in a separate process with a time limit."""
    return _spec("regex", name, pattern=pattern, flags=flags)


def equals(
    expected: Any = None,
    column: str | None = None,
    case_sensitive: bool = True,
    strip: bool = True,
    name: str | None = None,
) -> dict[str, Any]:
    """Passes when the reply equals ``expected``, or each row's value in ``column``."""
    return _spec(
        "equals",
        name,
        expected=expected,
        case_sensitive=case_sensitive,
        strip=strip,
        column=column,
    )


def json_valid(name: str | None = None) -> dict[str, Any]:
    """Passes when the reply is JSON (optionally inside one code fence)."""
    return _spec("json_valid", name)


def json_schema(schema: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """Passes when the reply is JSON valid against the schema (JSON Schema 2020-12)."""
    return _spec("json_schema", name, schema=schema)


def length(
    min: int | None = None, max: int | None = None, unit: str = "chars", name: str | None = None
) -> dict[str, Any]:
    """Passes when the reply's length (``unit``: "chars" or "words") is within bounds."""
    return _spec("length", name, min=min, max=max, unit=unit)


def judge(
    model: str | int,
    rubric: str,
    reference: str | None = None,
    reference_column: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """An LLM judge: ``model`` (a ChatMore model) grades each reply from 0 to 1 by the
    ``rubric``, against a ``reference`` answer or each row's ``reference_column``."""
    return _spec(
        "judge",
        name,
        model=model,
        rubric=rubric,
        reference=reference,
        reference_column=reference_column,
    )
