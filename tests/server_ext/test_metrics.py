"""Prometheus metrics and the structured log, after a few real turns."""

from __future__ import annotations

import secrets

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.api import make_conversation, make_models, new_client, send, wait_turn
from tests.support.providers import DemoProvider
from tests.support.servers import JUPYTER_TOKEN, JupyterServer


def samples(text: str) -> list:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list, name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in found
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_a_scrape_after_a_few_turns(server: JupyterServer, demo_provider: DemoProvider) -> None:
    admin, user = new_client(server, "admin"), new_client(server)
    ok_name, bad_name = f"ok{secrets.token_hex(3)}", f"bad{secrets.token_hex(3)}"
    ok, bad = make_models(admin, demo_provider.url, [ok_name, f"{bad_name};fault=server_error"])
    models = {m["id"]: m["name"] for m in admin.get("api/models").json()["models"]}
    conversation = make_conversation(user, [ok, bad])
    secret_prompt = f"prompt-{secrets.token_hex(6)}"
    turns = [
        wait_turn(user, send(user, conversation["id"], f"{secret_prompt} {i}")["turn_id"])
        for i in range(3)
    ]

    scrape = admin.get("metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    found = samples(scrape.text)
    ok_label, bad_label = models[ok], models[bad]
    assert (
        value(found, "chatmore_provider_requests_total", model=ok_label, outcome="succeeded") == 3
    )
    assert (
        value(
            found,
            "chatmore_provider_requests_total",
            model=bad_label,
            outcome="failed",
            code="PROVIDER_HTTP_ERROR",
        )
        == 3
    )
    assert value(found, "chatmore_provider_latency_seconds_count", model=ok_label) == 3
    assert value(found, "chatmore_provider_ttft_seconds_count", model=ok_label) == 3
    completion = sum(
        r["completion_tokens"] for t in turns for r in t["results"] if r["model_id"] == ok
    )
    assert (
        value(found, "chatmore_provider_tokens_total", model=ok_label, kind="completion")
        == completion
    )
    assert (
        value(
            found,
            "chatmore_http_requests_total",
            route="/chatmore/api/conversations/{id}/messages",
            method="POST",
            status="202",
        )
        >= 3
    )
    assert value(found, "chatmore_sse_streams_active") >= 0
    assert value(found, "chatmore_turns_total", mode="broadcast") >= 1
    # No user content, ids or secrets in labels.
    labels = " ".join(str(v) for s in found for v in s.labels.values())
    assert secret_prompt not in labels
    assert user.token not in scrape.text
    ours = [s for s in found if s.name.startswith("chatmore_")]
    keys = {key for s in ours for key in s.labels}
    assert keys <= {"model", "outcome", "code", "kind", "route", "method", "status", "mode", "le"}

    # Jupyter's own /metrics carries them too, behind Jupyter's token.
    jupyter = httpx.get(f"{server.base_url}metrics", params={"token": JUPYTER_TOKEN})
    assert "chatmore_provider_requests_total" in jupyter.text

    # The log has one structured line per result, without the prompt.
    log = server.log()
    assert f"turn started turn={turns[0]['id']}" in log
    assert f"result turn={turns[0]['id']}" in log and "status=succeeded" in log
    assert secret_prompt not in log


def test_metrics_are_for_admins_or_the_scraper_token(
    make_server, demo_provider: DemoProvider
) -> None:
    token = secrets.token_urlsafe(16)
    server = make_server(env={"CHATMORE_METRICS_TOKEN": token, "CHATMORE_LOG_CONTENT": "true"})
    user = new_client(server)
    # With the debug setting on, prompts do reach the log.
    (model,) = make_models(new_client(server, "admin"), demo_provider.url, ["debugged"])
    prompt = f"visible-{secrets.token_hex(4)}"
    wait_turn(user, send(user, make_conversation(user, [model])["id"], prompt)["turn_id"])
    assert prompt in server.log()
    assert user.get("metrics").status_code == 403
    assert server.client().get("metrics").status_code == 401
    wrong = server.client().get("metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    scraper = server.client().get("metrics", headers={"Authorization": f"Bearer {token}"})
    assert scraper.status_code == 200
    assert "chatmore_http_requests_total" in scraper.text
    assert token not in server.log()
