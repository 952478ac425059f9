"""The board's message protocol and vocabulary, in one place for the Python side.

``protocol.md`` describes the messages; ``src/protocol.js`` mirrors these constants for the
front end, and a test keeps the two equal.
"""

from __future__ import annotations

# Custom messages, by their "type".
FRONT_TO_KERNEL = ("send", "cancel", "ticket", "relay", "vote")
KERNEL_TO_FRONT = ("turn", "ticket", "events", "error")

# SSE event names of a turn (DESIGN §8).
EVENT_NAMES = ("chunk", "final", "error", "done")

# The status of one window's reply to one turn, as stored in ``Board.history``.
STATUSES = ("queued", "streaming", "succeeded", "failed", "cancelled")
TERMINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})

# The server's error code for a cancelled reply; its error event ends as "cancelled".
CANCELLED_CODE = "CANCELLED"
# Given to a reply still open when its turn's "done" arrives (should not happen).
INTERRUPTED_CODE = "INTERRUPTED"

# Relay batching: one "events" message at most every RELAY_INTERVAL_S seconds or every
# RELAY_MAX_BATCH events, whichever comes first. Jupyter caps iopub near 1,000 msgs/s.
RELAY_INTERVAL_S = 0.05
RELAY_MAX_BATCH = 200

# Codes the board itself answers with, beside those its backend raises.
WIDGET_ERROR_CODES: dict[str, str] = {
    "VALIDATION_FAILED": "the message or its fields are malformed",
    "NOT_CONNECTED": "the board has no backend (it only shows stored history)",
    "RELAY_FAILED": "the kernel could not follow the turn's events",
    "INTERNAL_ERROR": "an unexpected error in the kernel",
}
