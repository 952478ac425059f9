"""Fixtures of the notebook API tests: signed-in sessions on the shared server of each
backend, and models of the demo provider process registered by an admin."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import chatmore_kernel as cm
from tests.support.api import PASSWORD, seed_user
from tests.support.providers import DemoProvider
from tests.support.servers import JupyterServer


@dataclass
class Accounts:
    """An admin and a user of one server, each with a session."""

    server: JupyterServer
    admin: cm.Session
    user: cm.Session
    admin_email: str
    user_email: str


def open_session(server: JupyterServer, role: str = "user") -> tuple[cm.Session, str]:
    email = seed_user(server, role)
    return cm.Session(server.base_url, email, PASSWORD), email


@pytest.fixture
def accounts(server: JupyterServer) -> Iterator[Accounts]:
    admin, admin_email = open_session(server, "admin")
    user, user_email = open_session(server)
    yield Accounts(server, admin, user, admin_email, user_email)
    admin.close()
    user.close()


@dataclass
class DemoModels:
    """Names of models on the demo provider: fast ones, a slow one and a failing one."""

    swift: str
    scholar: str
    slow: str
    failing: str


def register(admin: cm.Session, provider: DemoProvider, upstream: str, **fields) -> str:
    name = f"{upstream.split(';')[0]}-{secrets.token_hex(3)}"
    admin.create_model(name, provider.url, upstream, **fields)
    return name


@pytest.fixture
def demo_models(accounts: Accounts, demo_provider: DemoProvider) -> DemoModels:
    admin = accounts.admin
    return DemoModels(
        swift=register(admin, demo_provider, "demo-swift;tps=0;ttft_ms=20"),
        scholar=register(
            admin, demo_provider, "demo-scholar;tps=0", default_params={"temperature": 0.7}
        ),
        # Slow enough to be stopped mid-stream, quick enough for a test's patience.
        slow=register(admin, demo_provider, "demo-sage;tps=40;ttft_ms=100"),
        failing=register(admin, demo_provider, "broken;fault=server_error"),
    )
