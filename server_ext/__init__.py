"""ChatMore's Jupyter server extension: the REST and SSE API over a SQL store."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .app import ChatMoreApp

    return [{"module": "server_ext", "app": ChatMoreApp}]
