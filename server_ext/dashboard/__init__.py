"""The standalone dashboard server: ``chatmore dashboard``.

Serves ``notebooks/dashboard.ipynb`` as a Voilà app and the ChatMore API on one origin,
so that a visitor needs only a browser. See :mod:`server_ext.dashboard.app`.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from ..config import Settings

DEFAULT_PORT = 8866
NOTEBOOK = "dashboard.ipynb"
# A page closed without saying so (a crashed browser, a lost network) leaves its kernel
# behind: one disconnected and idle this long is shut down. Open pages keep theirs.
KERNEL_IDLE_TIMEOUT = 3600


def find_notebook(given: str | None) -> Path:
    """The notebook to serve: ``given``, else ``notebooks/dashboard.ipynb`` or
    ``dashboard.ipynb`` in the working directory, else the source checkout's."""
    if given:
        candidates = [Path(given)]
    else:
        checkout = Path(__file__).resolve().parents[2] / "notebooks" / NOTEBOOK
        candidates = [Path("notebooks") / NOTEBOOK, Path(NOTEBOOK), checkout]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    looked = ", ".join(str(p) for p in candidates)
    raise SystemExit(f"chatmore: no dashboard notebook at {looked}; pass --notebook PATH")


def serve(
    settings: Settings,
    *,
    notebook: str | None = None,
    ip: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    base_url: str = "/",
    log_level: str = "INFO",
) -> int:
    """Run the dashboard server until it is interrupted; returns the exit status."""
    from .app import DashboardApp

    path = find_notebook(notebook)
    if not base_url.startswith("/"):
        base_url = f"/{base_url}"
    config = Config()
    config.Voila.ip = ip
    config.Voila.port = port
    config.Voila.port_retries = 0  # a deployment fails loudly rather than move
    config.Voila.open_browser = False
    config.Voila.base_url = base_url if base_url.endswith("/") else f"{base_url}/"
    config.Voila.notebook_path = str(path)
    config.Voila.root_dir = str(path.parent)
    config.Voila.log_level = log_level.upper()
    config.MappingKernelManager.cull_idle_timeout = KERNEL_IDLE_TIMEOUT
    config.MappingKernelManager.cull_interval = 300
    config.MappingKernelManager.cull_connected = False
    app = DashboardApp(config=config, chatmore_settings=settings)
    app.initialize([])
    app.start()
    return 0
