"""The notebook-side API of ChatMore.

::

    import chatmore_kernel as cm

    cm.connect()                      # the server and credentials from the environment
    cm.models()                       # DataFrame of the models you can use
    board = cm.board(["Demo Swift", "Demo Scholar", "Demo Sage"])
    board                             # type once, watch the columns stream
    cm.results()                      # every turn × window as a DataFrame
    cm.search("join* index")          # your prompts and replies holding these words
    cm.ask("Explain SQL joins", ["Demo Swift", "Demo Sage"])
    run = cm.run(df, ["Demo Swift"], grid={"temperature": [0, 0.7]}, template="…{text}")
    run.results(); run.matrix()       # a prompt set × windows, run in the server
    cm.create_api_key("laptop")       # a cm-… key for any OpenAI client (chatmore/v1/)

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
    "add_window",
    "api_keys",
    "archive",
    "ask",
    "board",
    "connect",
    "conversation",
    "conversations",
    "create_api_key",
    "create_model",
    "create_template",
    "experiment",
    "experiments",
    "export",
    "fill_template",
    "import_conversation",
    "leaderboard",
    "logout",
    "me",
    "model",
    "models",
    "rename",
    "replay",
    "results",
    "revoke_api_key",
    "revoke_share",
    "run",
    "score",
    "scorers",
    "scores",
    "search",
    "session",
    "share",
    "shares",
    "stats",
    "tag",
    "templates",
    "test_model",
    "turns",
    "update_model",
    "vote",
    "votes",
]

_default: Session | None = None
_default_lock = threading.Lock()


def connect(
    url: str | None = None,
    email: str | None = None,
    password: str | None = None,
    *,
    refresh_token: str | None = None,
):
    """Sign in and make this the default session.

    With no arguments the server is ``$CHATMORE_URL`` (set for kernels the ChatMore
    server starts) and the credentials come from ``$CHATMORE_EMAIL`` and
    ``$CHATMORE_PASSWORD``, else from the JSON file ``$CHATMORE_CREDENTIALS``, else from
    the quick start's ``credentials.json`` in the ChatMore data directory.
    ``refresh_token`` takes over a session the server handed over instead (the dashboard
    server does so for the kernel of a signed-in visitor's page).
    """
    global _default
    new = Session(url, email, password, refresh_token=refresh_token)
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
conversation = _delegate("conversation")
rename = _delegate("rename")
tag = _delegate("tag")
add_window = _delegate("add_window")
archive = _delegate("archive")
results = _delegate("results")
search = _delegate("search")
export = _delegate("export")
import_conversation = _delegate("import_conversation")
templates = _delegate("templates")
create_template = _delegate("create_template")
fill_template = _delegate("fill_template")
share = _delegate("share")
shares = _delegate("shares")
revoke_share = _delegate("revoke_share")
turns = _delegate("turns")
stats = _delegate("stats")
ask = _delegate("ask")
board = _delegate("board")
run = _delegate("run")
replay = _delegate("replay")
experiments = _delegate("experiments")
experiment = _delegate("experiment")
create_api_key = _delegate("create_api_key")
api_keys = _delegate("api_keys")
revoke_api_key = _delegate("revoke_api_key")
vote = _delegate("vote")
leaderboard = _delegate("leaderboard")
score = _delegate("score")
scores = _delegate("scores")
votes = _delegate("votes")
