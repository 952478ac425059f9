"""ChatMore's multi-column chat widget.

``Board`` is the widget; the notebook API gives it a ``BoardBackend`` that talks to the
server. ``protocol.md`` describes the messages between the kernel and the front end.
"""

from ._version import __version__
from .backend import BoardBackend, BoardError
from .board import Board

__all__ = ["Board", "BoardBackend", "BoardError", "__version__"]
