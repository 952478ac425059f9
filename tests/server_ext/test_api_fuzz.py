"""Schemathesis against a live server, from the server's own OpenAPI description.

A bounded number of generated requests per operation (valid and invalid ones), sent as
an admin with a real access token, on SQLite and on MariaDB. Passing means: no 5xx,
every answer matches the description (status, media type, schema), and the database
holds no half-written conversation, turn or result afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.api import make_conversation, make_models, new_client, send, wait_turn
from tests.support.servers import JupyterServer

pytestmark = pytest.mark.slow

# Per operation and phase, for each of the ~30 operations. Kept small so that a run takes
# well under a minute per database on two cores (about 1,900 requests).
MAX_EXAMPLES = 12
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
    ]
)
# Deactivating or demoting the fuzzing admin would end its own run early; that operation
# gets a run of its own as a second admin.
USERS_PATCH = "/api/users/{id}"


def run_schemathesis(
    server: JupyterServer, token: str, tmp: Path, *, only: str | None = None
) -> dict:
    """One CLI run; returns its outcome and how many requests it sent."""
    report = tmp / f"report-{'users' if only else 'all'}.json"
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{server.api_url}openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "11",
        "--workers",
        "1",
        "--no-shrink",
        "--generation-database",
        "none",
        "--request-timeout",
        "20",
        "--suppress-health-check",
        "all",
        "--report",
        "json,har",
        "--report-json-path",
        str(report),
        "--report-har-path",
        str(report.with_suffix(".har")),
        "--no-color",
    ]
    if only:
        args += ["--include-path", only, "--include-method", "PATCH"]
    else:
        args += ["--exclude-path", USERS_PATCH]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=False, cwd=tmp)
    return {"code": done.returncode, "out": done.stdout + done.stderr, "report": report}


def half_written(url: str) -> dict[str, int]:
    """Rows that a refused or failed request should never leave behind."""
    engine = create_engine(url)
    queries = {
        "conversations without windows": """
            SELECT COUNT(*) FROM conversations c
            WHERE NOT EXISTS (SELECT 1 FROM windows w WHERE w.conversation_id = c.id)""",
        "turns without results": """
            SELECT COUNT(*) FROM turns t
            WHERE NOT EXISTS (SELECT 1 FROM turn_results r WHERE r.turn_id = t.id)""",
        "results without their assistant message": """
            SELECT COUNT(*) FROM turn_results r WHERE NOT EXISTS (
                SELECT 1 FROM messages m WHERE m.turn_id = r.turn_id
                AND m.window_id = r.window_id AND m.role = 'assistant')""",
        "turns without their user messages": """
            SELECT COUNT(*) FROM turn_results r WHERE NOT EXISTS (
                SELECT 1 FROM messages m WHERE m.turn_id = r.turn_id
                AND m.window_id = r.window_id AND m.role = 'user')""",
        "results still running": """
            SELECT COUNT(*) FROM turn_results WHERE status IN ('queued', 'streaming')""",
    }
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(sql)).scalar_one() for name, sql in queries.items()}
    finally:
        engine.dispose()


def test_openapi_fuzzing_finds_no_5xx_and_no_half_written_rows(
    make_server, demo_provider, tmp_path: Path
) -> None:
    server = make_server()
    admin = new_client(server, "admin")
    # Something for ids to find: a model, a conversation, a finished turn.
    model_ids = make_models(admin, demo_provider.url, ["demo-swift;tps=4000"])
    conversation = make_conversation(admin, model_ids)
    wait_turn(admin, send(admin, conversation["id"], "hello")["turn_id"])
    started = time.monotonic()

    main = run_schemathesis(server, admin.token, tmp_path)
    users = run_schemathesis(server, new_client(server, "admin").token, tmp_path, only=USERS_PATCH)

    elapsed = time.monotonic() - started
    cases = sent = 0
    for run in (main, users):
        assert run["code"] == 0, run["out"][-6000:]
        report = json.loads(run["report"].read_text())
        assert report["operations"]["errored"] == 0, run["out"][-3000:]
        cases += report["test_cases"]["generated"]
        sent += len(json.loads(run["report"].with_suffix(".har").read_text())["log"]["entries"])
    print(f"schemathesis: {cases} test cases, {sent} requests, {elapsed:.0f} s")
    assert sent > 1000  # it really ran: every operation, valid and invalid requests

    deadline = time.monotonic() + 60
    while (found := half_written(server.env["CHATMORE_DB_URL"]))["results still running"]:
        assert time.monotonic() < deadline, found
        time.sleep(0.5)
    assert found == dict.fromkeys(found, 0)
    assert "Traceback" not in server.log()
