"""The dashboard server: Voilà's standalone app with ChatMore built in, on one origin.

:class:`DashboardApp` is :class:`voila.app.Voila` with these changes:

- it builds ChatMore's :class:`~server_ext.runtime.Runtime` (as the Jupyter extension
  does), starts its background work before the port opens and stops it on shutdown;
- ChatMore's routes join Voilà's on the same tornado application, so the page, the API
  and the turn streams share one host and port;
- it serves one notebook at the base URL and only the Voilà routes that page needs: no
  tree, no files, no login pages — and Voilà itself never mounts JupyterLab, terminals or
  the contents, kernels-list and sessions APIs. Voilà's kernel websocket forwards only
  widget (comm) messages, so a visitor can drive the page's widgets but not run code;
- the page uses ChatMore's offline template (``share/voila/templates/chatmore``);
- a kernel starts only for a signed-in visitor, within caps per visitor and in total,
  and is shut down when its page never connects (``gate.py``, ``kernels.py``).
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import Any

from jupyter_core.utils import run_sync
from jupyter_server.log import log_request
from jupyter_server.utils import url_path_join
from traitlets import Instance
from voila.app import Voila
from voila.configuration import VoilaConfiguration
from voila.tornado.handler import TornadoVoilaHandler

from ..app import SCRUBBED_QUERY_PARAMS, local_url
from ..config import OPTIONS_BY_NAME, Settings
from ..handlers import routes
from ..logs import route_to as route_logs_to
from ..runtime import Runtime
from ..store.db import describe_db_error
from .gate import KERNEL_HEADERS, DashboardPageHandler, gate_routes
from .kernels import DashboardKernelManager, KernelLedger

TEMPLATE = "chatmore"
# A Jupyter data directory holding voila/templates/chatmore (see _use_packaged_template).
SHARE = Path(__file__).parent / "share"

# The Voilà routes the page needs, relative to the server URL; the rest are not mounted.
VOILA_ROUTES = (
    "api/kernels/",  # one kernel by id and its websocket; never the list
    "voila/templates/",
    "voila/static/",
    "voila/labextensions/",
    "voila/api/themes/",
    "voila/api/shutdown/",  # the page shuts its kernel down when it closes
)

# Settings Voilà would otherwise take from voila.json or a query string.
LOCKED_CONFIGURATION: dict[str, Any] = {
    "template": TEMPLATE,
    "allow_template_override": "NO",
    "allow_theme_override": "NO",
    "strip_sources": True,
    "show_tracebacks": False,
    "preheat_kernel": False,
    "progressive_rendering": False,
    "prelaunch_hook": None,
    # Only the headers the gate sets (a visitor's own are dropped): the kernel's session
    # and the ledger reservation.
    "http_header_envs": list(KERNEL_HEADERS),
    "multi_kernel_manager_class": DashboardKernelManager,
}

# What kernels (which inherit the server's environment) must not get: the server's secrets,
# and the credentials cm.connect() would fall back on (chatmore_kernel/config.py) — a
# visitor signs in as themselves only.
KERNEL_ENV_SECRETS = (
    *OPTIONS_BY_NAME["db_url"].env,
    *OPTIONS_BY_NAME["secret_key"].env,
    "CHATMORE_EMAIL",
    "CHATMORE_PASSWORD",
    "CHATMORE_CREDENTIALS",
)


class DashboardApp(Voila):
    """``chatmore dashboard``: one notebook as a Voilà app, and the ChatMore API beside it."""

    description = __doc__  # type: ignore[assignment]
    chatmore_settings = Instance(Settings)
    runtime: Runtime | None = None
    _stopping = False

    def initialize(self, argv: list[str] | None = None) -> None:
        _use_packaged_template()
        super().initialize(argv)
        route_logs_to(self.log)
        # Tornado's access log writes through the app's handler too, as in jupyter_server.
        tornado_log = logging.getLogger("tornado")
        tornado_log.propagate = True
        tornado_log.parent = self.log
        tornado_log.setLevel(self.log.level)
        # SIGINT too stops the loop between callbacks (Voilà's KeyboardInterrupt could land
        # inside a request and resurface while kernels shut down).
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop_on_signal)

    def _stop_on_signal(self, signum: int, frame: object) -> None:
        ioloop = getattr(self, "ioloop", None)
        if ioloop is None or self._stopping:
            raise KeyboardInterrupt  # not serving yet, or asked twice: stop at once
        self._stopping = True
        self.log.info("Stopping (signal %d)", signum)
        ioloop.asyncio_loop.call_soon_threadsafe(ioloop.stop)

    def setup_template_dirs(self) -> None:
        lock(self.voila_configuration)
        super().setup_template_dirs()

    # -- start and stop ----------------------------------------------------------------

    def start(self) -> None:
        """Build the runtime, start its work, then serve until interrupted."""
        try:
            self.runtime = Runtime.build(self.chatmore_settings)
        except Exception as exc:
            self.log.critical("ChatMore cannot start: %s", describe_db_error(exc))
            self.exit(3)
        assert self.runtime is not None
        url = local_url(self.ip, self.port, self.server_url or self.base_url)
        # Kernels inherit this environment: cm.connect(url=os.environ["CHATMORE_URL"]).
        os.environ["CHATMORE_URL"] = url
        for name in KERNEL_ENV_SECRETS:
            os.environ.pop(name, None)
        try:
            # Before the port opens, so that a server that answers is a server that is ready
            # (the demo models registered); the loop is Voilà's, started again by listen().
            run_sync(self.runtime.start)(url)
            self.log.info(
                "ChatMore dashboard: %s at %s, API at %schatmore/, database %s",
                self.notebook_path,
                url,
                url,
                self.runtime.db.engine.url.render_as_string(hide_password=True),
            )
            super().start()
        finally:
            run_sync(self.runtime.stop)()

    # -- the tornado application -------------------------------------------------------

    def init_settings(self) -> dict[str, Any]:
        settings = super().init_settings()
        assert self.runtime is not None
        chatmore = self.runtime.settings
        ledger = KernelLedger(
            chatmore.dashboard_kernels_per_user, chatmore.dashboard_kernels_total
        )
        manager = self.kernel_manager
        assert isinstance(manager, DashboardKernelManager)
        manager.ledger = ledger
        manager.connect_timeout = chatmore.dashboard_connect_timeout
        settings["chatmore_runtime"] = self.runtime
        settings["chatmore_kernel_ledger"] = ledger
        # jupyter_server's access log, which scrubs secrets (and the stream ticket) from URIs.
        settings["log_function"] = log_request
        settings["extra_log_scrub_param_keys"] = list(SCRUBBED_QUERY_PARAMS)
        return settings

    def init_handlers(self) -> list:
        server_url = self.server_url or self.base_url
        kept = tuple(url_path_join(server_url, prefix) for prefix in VOILA_ROUTES)
        voila: list = []
        for route in super().init_handlers():
            pattern, handler = route[0], route[1]
            if handler is TornadoVoilaHandler:
                # The page at the base URL only, behind the sign-in gate; Voilà's
                # catch-all would redirect any other path into its file handler.
                voila.append((server_url, DashboardPageHandler, *route[2:]))
            elif pattern.startswith(kept):
                voila.append(route)
        assert self.runtime is not None
        chatmore = [
            (url_path_join(server_url, pattern), *rest)
            for pattern, *rest in routes(demo=self.runtime.settings.demo)
        ]
        return [*chatmore, *gate_routes(server_url), *voila]


def lock(configuration: VoilaConfiguration) -> None:
    """Pin the settings that keep the dashboard one offline page with no code shown."""
    for name, value in LOCKED_CONFIGURATION.items():
        setattr(configuration, name, value)


def _use_packaged_template() -> None:
    """Put ChatMore's data directory first on JUPYTER_PATH, where Voilà (its template
    loader and its template static handler alike) looks for templates."""
    current = os.environ.get("JUPYTER_PATH", "")
    parts = [p for p in current.split(os.pathsep) if p and p != str(SHARE)]
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(SHARE), *parts])
