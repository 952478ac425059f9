"""ChatMore's loggers (``chatmore``, ``chatmore.turns``, ``chatmore.provider`` …) write
through the host application's handlers: Jupyter server's, or the dashboard server's.

Lines are ``key=value`` records (ids, model, outcome, timings). Prompts and replies
appear only with the debug setting ``CHATMORE_LOG_CONTENT``; keys and tokens never.
"""

from __future__ import annotations

import logging

ROOT = "chatmore"


def route_to(host: logging.Logger) -> None:
    """Send ChatMore's records to ``host``'s handlers, at ``host``'s level."""
    root = logging.getLogger(ROOT)
    for handler in host.handlers or logging.getLogger().handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(host.getEffectiveLevel())
    root.propagate = False
