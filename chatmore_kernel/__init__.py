"""The notebook-side API of ChatMore.

::

    import chatmore_kernel as cm

    cm.connect()                      # the server and credentials from the environment
    cm.models()                       # DataFrame of the models you can use
    board = cm.board(["Demo Swift", "Demo Scholar", "Demo Sage"])
    board                             # type once, watch the columns stream
    cm.results()                      # every turn × window as a DataFrame
    cm.ask("Explain SQL joins", ["Demo Swift", "Demo Sage"])

The module-level functions call the default :class:`Session`, which :func:`connect`
makes (or the first call, with no arguments). Every failure raises
:class:`ChatMoreError` with the server's error code.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from . import scorers
from .errors import ChatMoreError
from .sessions import Session

__version__ = "0.1.0"

__all__ = [
    "ChatMoreError",
    "Session",
    "archive",
    "ask",
    "board",
    "connect",
    "conversations",
    "create_model",
    "leaderboard",
    "logout",
    "me",
    "model",
    "models",
    "results",
    "score",
    "scorers",
    "scores",
    "session",
    "stats",
    "test_model",
    "turns",
    "update_model",
    "vote",
    "votes",
]

_default: Session | None = None
_default_lock = threading.Lock()


def connect(url: str | None = None, email: str | None = None, password: str | None = None):
    """Sign in and make this the default session.

    With no arguments the server is ``$CHATMORE_URL`` (set for kernels the ChatMore
    server starts) and the credentials come from ``$CHATMORE_EMAIL`` and
    ``$CHATMORE_PASSWORD``, else from the JSON file ``$CHATMORE_CREDENTIALS``, else from
    the quick start's ``credentials.json`` in the ChatMore data directory.
    """
    global _default
    new = Session(url, email, password)
    with _default_lock:
        old, _default = _default, new
    if old is not None:
        old.close()
    return new


def session() -> Session:
    """The default session; the first use connects with the defaults."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Session()
        return _default


def logout() -> None:
    """End the default session on the server; the next call connects again."""
    global _default
    with _default_lock:
        current, _default = _default, None
    if current is not None:
        current.logout()


def _delegate(name: str) -> Any:
    method = getattr(Session, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(session(), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = method.__doc__
    # help() and tab completion show the method's parameters, without self.
    signature = inspect.signature(method)
    call.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=list(signature.parameters.values())[1:]
    )
    return call


me = _delegate("me")
models = _delegate("models")
model = _delegate("model")
create_model = _delegate("create_model")
update_model = _delegate("update_model")
test_model = _delegate("test_model")
conversations = _delegate("conversations")
archive = _delegate("archive")
results = _delegate("results")
turns = _delegate("turns")
stats = _delegate("stats")
ask = _delegate("ask")
board = _delegate("board")
vote = _delegate("vote")
leaderboard = _delegate("leaderboard")
score = _delegate("score")
scores = _delegate("scores")
votes = _delegate("votes")
