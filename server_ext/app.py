"""The Jupyter server extension: where ChatMore is configured and wired.

Settings come from the traits of :class:`ChatMoreApp` (``c.ChatMoreApp.<name>`` in
``jupyter_config.py``) or the environment; the runtime (database, services) is built
once in :meth:`ChatMoreApp.initialize_settings`, before the server listens, and its
background work starts with the event loop.
"""

from __future__ import annotations

import os
import sys

from jupyter_server.extension.application import ExtensionApp

from .config import ConfigError, ConfigTraits, settings_from_traits
from .handlers import routes
from .logs import route_to as route_logs_to
from .runtime import Runtime
from .store.db import describe_db_error

# Addresses a server listens on that local clients reach through loopback.
WILDCARD_OR_LOCAL = {"", "0.0.0.0", "::", "localhost", "*"}  # noqa: S104 - compared, not bound

# Query parameters whose values never reach the access log (the stream ticket).
SCRUBBED_QUERY_PARAMS = ["st"]


class ChatMoreApp(ConfigTraits, ExtensionApp):  # type: ignore[misc, valid-type]
    """ChatMore: compare LLMs side by side, every turn recorded."""

    name = "chatmore"
    description = __doc__
    load_other_extensions = True

    runtime: Runtime | None = None

    def initialize_settings(self) -> None:
        route_logs_to(self.serverapp.log)
        try:
            settings = settings_from_traits(self)
        except ConfigError as exc:
            self.log.critical("%s", exc)
            # SystemExit passes through the server's "log and carry on" for extensions:
            # a misconfigured ChatMore must not start half-working.
            sys.exit(2)
        try:
            self.runtime = Runtime.build(settings)
        except Exception as exc:
            self.log.critical("ChatMore cannot start: %s", describe_db_error(exc))
            sys.exit(3)
        self.settings["chatmore_runtime"] = self.runtime
        scrub = list(self.serverapp.web_app.settings.get("extra_log_scrub_param_keys", []))
        self.settings["extra_log_scrub_param_keys"] = scrub + SCRUBBED_QUERY_PARAMS

    def initialize_handlers(self) -> None:
        assert self.runtime is not None
        self.handlers.extend(routes(demo=self.runtime.settings.demo))

    async def _start_jupyter_server_extension(self, serverapp) -> None:  # type: ignore[override]
        assert self.runtime is not None
        url = local_url(serverapp.ip, serverapp.port, serverapp.base_url)
        # Kernels started by this server inherit it: cm.connect() finds the server so.
        os.environ["CHATMORE_URL"] = url
        await self.runtime.start(url)
        self.log.info("ChatMore is serving at %schatmore/ (database: %s)", url, _db_label(self))

    async def stop_extension(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()


def local_url(ip: str, port: int, base_url: str) -> str:
    """The URL processes on this machine use to reach a server bound to ``ip:port``."""
    host = "127.0.0.1" if ip in WILDCARD_OR_LOCAL else ip
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{base_url}"


def _db_label(app: ChatMoreApp) -> str:
    assert app.runtime is not None
    return app.runtime.db.engine.url.render_as_string(hide_password=True)
