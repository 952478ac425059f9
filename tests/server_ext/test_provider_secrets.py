"""A provider that echoes the API key in its errors never makes ChatMore show or store it.

The demo provider's ``leak_key*`` faults put the lower-cased key in ``error.code``,
``error.type``, the error message and the finish reason. The key must not appear in the
model test answer, the user's SSE frames, api/turns, messages, api/results, any database
row or the server log, on SQLite and MariaDB.
"""

from __future__ import annotations

import secrets

from sqlalchemy import create_engine, select

from server_ext.store.tables import metadata
from tests.support.api import Client, make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer
from tests.support.sse import open_stream, ticket

FAULTS = ("leak_key", "leak_key_inband;stall_after=2", "leak_key_finish")


def leaked(text: str, key: str) -> list[str]:
    """Which forms of the key (whole, lower-cased, a long piece) are in ``text``."""
    lowered = text.lower()
    forms = {"key": key, "lower": key.lower(), "piece": key[5:17].lower()}
    return [name for name, form in forms.items() if form.lower() in lowered]


def database_text(server: JupyterServer) -> str:
    engine = create_engine(server.env["CHATMORE_DB_URL"])
    with engine.connect() as conn:
        rows = [
            repr(row) for table in metadata.sorted_tables for row in conn.execute(select(table))
        ]
    engine.dispose()
    return "\n".join(rows)


def raw_stream(client: Client, turn_id: int) -> str:
    lines = []
    with open_stream(client.server.api_url, turn_id, ticket(client, turn_id)) as answer:
        for line in answer.iter_lines():
            lines.append(line)
            if line.startswith("event: done"):
                break
    return "\n".join(lines)


def test_a_provider_echoing_the_key_never_gets_it_shown_or_stored(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    key = "sk-Canary" + secrets.token_hex(15)  # 39 characters, lower-cased a "plain" code
    upstreams = [f"demo-swift;ttft_ms=0;tps=0;fault={fault}" for fault in FAULTS]
    model_ids = make_models(admin, demo_provider.url, upstreams, api_key=key)

    seen: dict[str, str] = {}
    for model_id in model_ids:
        tested = admin.post(f"api/models/{model_id}/test")
        assert tested.status_code == 200
        seen[f"model test {model_id}"] = tested.text
    refused = admin.post(f"api/models/{model_ids[0]}/test").json()
    assert refused["ok"] is False
    assert refused["error"]["code"] == "PROVIDER_HTTP_ERROR"

    conversation = make_conversation(user, model_ids)
    turn_id = send(user, conversation["id"], "Tell me a secret.")["turn_id"]
    seen["sse"] = raw_stream(user, turn_id)
    turn = wait_turn(user, turn_id)
    seen["api/turns"] = user.get(f"api/turns/{turn_id}").text
    seen["messages"] = user.get(f"api/conversations/{conversation['id']}/messages").text
    seen["api/results"] = user.get("api/results").text
    seen["database"] = database_text(server)
    seen["server log"] = server.log()

    statuses = sorted(result["status"] for result in turn["results"])
    assert statuses == ["failed", "failed", "succeeded"], turn
    codes = {r["error_code"] for r in turn["results"] if r["status"] == "failed"}
    assert codes == {"PROVIDER_HTTP_ERROR", "PROVIDER_BAD_RESPONSE"}, turn
    assert "event: error" in seen["sse"]
    finished = next(r for r in turn["results"] if r["status"] == "succeeded")
    assert finished["finish_reason"] == "other"
    leaks = {where: forms for where, text in seen.items() if (forms := leaked(text, key))}
    assert not leaks


def test_a_known_upstream_code_is_shown_and_mapped(
    server: JupyterServer, demo_provider: DemoProvider
) -> None:
    admin = new_client(server, "admin")
    [limited, unknown_key] = make_models(
        admin,
        demo_provider.url,
        ["demo-swift;fault=rate_limit;retry_after=30", "demo-swift;fault=auth;key=right-key"],
    )
    limited_answer = admin.post(f"api/models/{limited}/test").json()
    assert limited_answer["error"]["code"] == "PROVIDER_RATE_LIMITED"
    assert "(rate_limit_exceeded)" in limited_answer["error"]["message"]
    refused = admin.post(f"api/models/{unknown_key}/test").json()
    assert refused["error"]["code"] == "PROVIDER_AUTH_FAILED"
    assert "(invalid_api_key)" in refused["error"]["message"]
