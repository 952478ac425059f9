"""The project's promises about itself: docs list every setting and error code, the
compose file only sets what the server reads, the extension is enabled on install."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from server_ext.config import OPTIONS
from server_ext.errors import ERROR_CODES

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

# Environment names read by Jupyter itself rather than by ChatMore.
JUPYTER_ENV = {"JUPYTER_TOKEN"}


def test_rendered_docs_are_fresh() -> None:
    """README's settings and error tables and jupyter_config.py come from the source
    tables; scripts/render_docs.py rewrites them."""
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "render_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_readme_documents_every_setting() -> None:
    for option in OPTIONS:
        for env in option.env:
            assert env in README, f"README does not document {env}"
        assert f"`{option.name}`" in README


def test_jupyter_config_lists_every_setting() -> None:
    text = (REPO / "jupyter_config.py").read_text()
    for option in OPTIONS:
        assert f"c.ChatMoreApp.{option.name}" in text


def test_readme_documents_every_error_code() -> None:
    for code in ERROR_CODES:
        assert f"`{code}`" in README, f"README does not document {code}"


def test_readme_quick_start_has_exactly_two_commands() -> None:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block
    commands = [line for line in block.group(1).splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^exec make test$", script, re.M)


def test_compose_sets_only_settings_the_server_reads() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    readable = {env for option in OPTIONS for env in option.env} | JUPYTER_ENV
    chatmore_services = [
        (name, svc) for name, svc in compose["services"].items() if "build" in svc
    ]
    assert chatmore_services, "compose has no ChatMore service"
    for name, service in chatmore_services:
        env = service.get("environment", {})
        names = set(env) if isinstance(env, dict) else {e.split("=")[0] for e in env}
        unknown = names - readable
        assert not unknown, f"service {name} sets {unknown}, which nothing reads"
        assert "MYSQL_DSN" in names
    assert compose["services"]["mysql"]["image"].startswith("mysql:8")


def test_compose_dsn_parses() -> None:
    from server_ext.config import parse_database_url

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    dsn = compose["services"]["chatmore"]["environment"]["MYSQL_DSN"]
    assert parse_database_url(dsn).startswith("mysql+pymysql://root:root@mysql:3306/chat")


def test_the_extension_is_enabled_by_installing() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert re.search(r"server_ext\s+enabled", text)
    assert re.search(r"server_ext [\d.]+ OK", text)


def test_schema_is_a_data_folder_not_a_package() -> None:
    assert not (REPO / "schema" / "__init__.py").exists()
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'packages = \["server_ext", "chatmore_kernel", "widgets"\]', pyproject)
