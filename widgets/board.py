"""The ChatMore board: one prompt, several models, their replies side by side.

:class:`Board` is an anywidget. Its synced traits describe what the board shows (the
windows and their history); custom messages carry the actions (send, cancel, stream
tickets, relayed events) — see ``protocol.md``. The board talks to the server only through
the :class:`~widgets.backend.BoardBackend` it is given; credentials never reach a trait or
a message, and stream tickets travel only in custom messages, so they are never saved
with the notebook's widget state.
"""

from __future__ import annotations

import copy
import logging
import pathlib
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import anywidget
import traitlets as t

from . import i18n
from ._version import __version__
from .backend import BoardBackend, BoardError
from .blind import masked, resolve_winner, shuffled
from .follow import TurnFollower
from .history import add_turn, apply_event, normalise_history
from .protocol import TERMINAL_STATUSES
from .relay import Event, Relay

log = logging.getLogger(__name__)

STATIC = pathlib.Path(__file__).parent / "static"

# Shown instead of the board when the front end was never built (a bare source checkout).
_UNBUILT_ESM = """
export default {
  render({ el }) {
    el.textContent = "ChatMore's widget front end is not built. Reinstall the package "
      + "(pip install -e . needs Node.js and npm), or run `npm ci && node build.mjs` "
      + "in widgets/.";
  },
};
"""


def _asset(name: str, fallback: str) -> pathlib.Path | str:
    path = STATIC / name
    return path if path.is_file() else fallback


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _window(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not _is_id(value.get("id")):
        raise t.TraitError("each window needs an integer id")
    params = value.get("params_diff") or {}
    effective = value.get("effective_params") or {}
    if not isinstance(params, Mapping) or not isinstance(effective, Mapping):
        raise t.TraitError("params_diff and effective_params must be dicts")
    prompt, currency = value.get("system_prompt"), value.get("currency")
    return {
        "id": value["id"],
        "name": str(value.get("name") or value.get("model_name") or f"Window {value['id']}"),
        "model_name": str(value.get("model_name") or ""),
        "params_diff": dict(params),
        "effective_params": dict(effective),
        "system_prompt": None if prompt is None else str(prompt),
        "currency": None if currency is None else str(currency),
    }


class Board(anywidget.AnyWidget):
    """A multi-column chat board: one column per window of a conversation.

    ``backend`` starts turns, mints stream tickets and reads events (see
    :class:`~widgets.backend.BoardBackend`); without one the board only shows its history.
    With ``follow`` (the default) the kernel follows each turn it starts in a background
    thread and folds the results into :attr:`history`, so the history is right even with
    no browser open, and :meth:`wait` can block until a turn is over. (Observers of
    ``history`` may therefore run in that thread.)
    """

    _esm = _asset("board.js", _UNBUILT_ESM)
    _css = _asset("board.css", "")

    windows = t.List(
        t.Dict(),
        help="The columns, in order: {id, name, model_name, params_diff, effective_params, "
        "system_prompt, currency}; params_diff holds only the params that differ from the "
        "model's defaults, effective_params the window's own over the model's defaults, "
        "currency that of the model's prices (null without prices).",
    ).tag(sync=True)
    history = t.Dict(
        help="Window id (a string) → its exchanges in turn order: {turn_id, prompt, reply, "
        "status, error, finish_reason, ttft_ms, latency_ms, prompt_tokens, "
        "completion_tokens, tokens_per_second, cost, replaces_turn_id}.",
    ).tag(sync=True)
    conversation_id = t.Union(
        [t.Int(), t.Unicode()],
        allow_none=True,
        default_value=None,
        help="The conversation shown; changing it clears the front end's live state.",
    ).tag(sync=True)
    title = t.Unicode("", help="Shown above the columns.").tag(sync=True)
    transport = t.Enum(
        ("auto", "relay"),
        default_value="auto",
        help="auto: the browser reads events from the server and falls back to the kernel's "
        "relay; relay: always through the kernel.",
    ).tag(sync=True)
    height = t.Int(520, help="Height of each column, in pixels.").tag(sync=True)
    blind = t.Bool(
        False,
        help="Blind comparison: the columns come shuffled and named Model A, B, … until "
        "the first vote, then show their models (see widgets/blind.py).",
    ).tag(sync=True)
    votes = t.Dict(
        help="Turn id (a string) → the vote cast on it here: {winner: window id | 'tie' | "
        "'all_bad', vote_id, blind}.",
    ).tag(sync=True)
    locale = t.Unicode(
        "",
        help="The page's language (en, zh), set by the front end: the kernel's messages "
        "(errors, notices, progress) follow it (chatmore_kernel/i18n.py).",
    ).tag(sync=True)
    # The front end shows a warning when its bundle is not of this version (a stale build).
    _chatmore_version = t.Unicode(__version__).tag(sync=True)

    @t.observe("locale")
    def _speak_the_page_language(self, change: dict[str, Any]) -> None:
        if change["new"]:
            i18n.set_locale(change["new"])

    def __init__(
        self, backend: BoardBackend | None = None, *, follow: bool = True, **kwargs: Any
    ) -> None:
        # Set before anything can fail: close() (also run by __del__) relies on them.
        self._lock = threading.RLock()  # guards history and the turn bookkeeping
        self._send_lock = threading.Lock()
        self._prompts: dict[int, str] = {}
        self._followers: dict[int, TurnFollower] = {}
        self._relays: dict[tuple[int, int | None], Relay] = {}
        self._last_turn_id: int | None = None
        self._backend = backend
        self._follow = follow
        if backend is not None and not isinstance(backend, BoardBackend):
            raise TypeError("backend must implement widgets.BoardBackend")
        super().__init__(**kwargs)
        # A blind board keeps its real windows here until the first vote.
        self._hidden_windows: list[dict[str, Any]] | None = None
        if self.blind:
            order = shuffled(list(self.windows))
            self._hidden_windows = order
            self.windows = masked(order)
        self.on_msg(self._on_custom_msg)

    # -- validation --------------------------------------------------------------------

    @t.validate("windows")
    def _check_windows(self, proposal: dict[str, Any]) -> list[dict[str, Any]]:
        windows = [_window(w) for w in proposal["value"]]
        ids = [w["id"] for w in windows]
        if len(set(ids)) != len(ids):
            raise t.TraitError("window ids must be unique")
        return windows

    @t.validate("history")
    def _check_history(self, proposal: dict[str, Any]) -> dict[str, Any]:
        try:
            return normalise_history(proposal["value"])
        except ValueError as exc:
            raise t.TraitError(str(exc)) from exc

    @t.validate("height")
    def _check_height(self, proposal: dict[str, Any]) -> int:
        if not 160 <= proposal["value"] <= 4000:
            raise t.TraitError("height must be between 160 and 4000 pixels")
        return proposal["value"]

    # -- the Python API ----------------------------------------------------------------

    @property
    def last_turn_id(self) -> int | None:
        """The id of the last turn this board started or attached."""
        return self._last_turn_id

    def send(  # type: ignore[override]  # a prompt, not ipywidgets' raw message
        self,
        prompt: str,
        window_ids: Iterable[int] | None = None,
        *,
        replaces_turn_id: int | None = None,
    ) -> dict[str, Any]:
        """Send ``prompt`` to every window (or to ``window_ids``), as the shared input does.

        With ``replaces_turn_id`` the new turn takes the place of that turn (the last one
        of those windows) in their context, as a retry or an edited prompt does: the old
        exchange stays in the history but is no longer sent upstream.

        Returns ``{"turn_id", "window_ids"}``; the open views stream the replies. Raises
        :class:`BoardError` when the message is refused (``VALIDATION_FAILED``,
        ``WINDOW_BUSY`` …).
        """
        if isinstance(prompt, dict):  # ipywidgets' own send(content, buffers) contract
            self._send_message(prompt, window_ids)  # type: ignore[arg-type]
            return {}
        ids = None if window_ids is None else list(window_ids)
        return self._start_turn(prompt, ids, request_id=None, replaces=replaces_turn_id)

    def retry(self, window_id: int) -> dict[str, Any]:
        """Send a window's last prompt again to that window only, in place of its last
        exchange (after a failure, or for another sample)."""
        exchanges = self.history.get(str(window_id)) or []
        if not exchanges:
            raise BoardError("VALIDATION_FAILED", i18n.t("board.error.no_retry", window=window_id))
        last = exchanges[-1]
        return self.send(last["prompt"], [window_id], replaces_turn_id=last["turn_id"])

    def cancel(self, turn_id: int | None = None, window_ids: Iterable[int] | None = None) -> None:
        """Stop the replies of ``turn_id`` (default: every turn still running here)."""
        backend = self._require_backend()
        ids = None if window_ids is None else list(window_ids)
        turns = [turn_id] if turn_id is not None else self.running_turns()
        for turn in turns:
            backend.cancel(turn, ids)

    def running_turns(self) -> list[int]:
        """Turns with a reply still queued or streaming, as the history knows them."""
        turns = {
            x["turn_id"]
            for exchanges in self.history.values()
            for x in exchanges
            if x["status"] not in TERMINAL_STATUSES
        }
        return sorted(turns)

    def wait(self, turn_id: int | None = None, timeout: float | None = None) -> bool:
        """Block until a followed turn (default: the last) is over; False on timeout.

        Raises :class:`BoardError` if the kernel could not follow the turn's events.
        """
        turn_id = self._last_turn_id if turn_id is None else turn_id
        follower = self._followers.get(turn_id) if turn_id is not None else None
        if follower is None:
            return True
        if not follower.wait(timeout):
            return False
        if follower.error is not None:
            raise follower.error
        return True

    def vote(self, winner: Any, turn_id: int | None = None) -> dict[str, Any]:
        """Vote on a turn (default: the last): ``winner`` is the best column (its window
        id, its shown name such as "Model A", or its letter), ``"tie"`` or ``"all_bad"``.
        Voting again changes the vote. A blind board then shows its models' names."""
        backend = self._require_backend()
        cast = getattr(backend, "vote", None)
        if cast is None:
            raise BoardError("NOT_CONNECTED", i18n.t("board.error.no_votes"))
        turn_id = self._last_turn_id if turn_id is None else turn_id
        if not _is_id(turn_id):
            turn_id = self._latest_turn()
        try:
            choice = resolve_winner(winner, list(self.windows))
        except ValueError as exc:
            raise BoardError("VALIDATION_FAILED", str(exc)) from None
        was_blind = self._hidden_windows is not None
        shown = [w["id"] for w in self.windows]
        stored = cast(turn_id, choice, shown, was_blind)
        with self._lock:
            self.votes = {
                **self.votes,
                str(turn_id): {"winner": choice, "vote_id": stored.get("id"), "blind": was_blind},
            }
            if self._hidden_windows is not None:
                self.windows, self._hidden_windows = self._hidden_windows, None
        return stored

    def _latest_turn(self) -> int:
        turns = [x["turn_id"] for exchanges in self.history.values() for x in exchanges]
        if not turns:
            raise BoardError("VALIDATION_FAILED", i18n.t("board.error.nothing_to_vote"))
        return max(turns)

    def attach_turn(self, turn_id: int, content: str, window_ids: Iterable[int]) -> None:
        """Show a turn that was started elsewhere (e.g. by the notebook API) on this board.

        The history gets a queued exchange in each window, the open views start streaming
        it (each asks for its own ticket), and the kernel follows it if ``follow`` is on.
        """
        self._announce(turn_id, content, list(window_ids), request_id=None, ticket=None)

    def apply_events(self, events: Iterable[Event], prompt: str = "") -> None:
        """Fold SSE events into :attr:`history` (e.g. a turn replayed from the server)."""
        with self._lock:
            history = copy.deepcopy(self.history)
            for event in events:
                apply_event(history, event, prompt)
            self.history = history

    def close(self) -> None:
        """Stop the relays and followers of this board, then close the widget."""
        with self._lock:
            for relay in self._relays.values():
                relay.stop()
            for follower in self._followers.values():
                follower.stop()
        super().close()

    # -- turns -------------------------------------------------------------------------

    def _send_message(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        """A custom message to the front ends (``send`` is taken by the prompt API)."""
        with self._send_lock:  # relays and followers send from their own threads
            anywidget.AnyWidget.send(self, content, buffers)

    def _require_backend(self) -> BoardBackend:
        if self._backend is None:
            raise BoardError("NOT_CONNECTED", i18n.t("board.error.no_backend"))
        return self._backend

    def _check_send(self, content: Any, window_ids: Any, replaces: Any = None) -> None:
        if not isinstance(content, str) or not content.strip():
            raise BoardError("VALIDATION_FAILED", i18n.t("board.error.empty_message"))
        if replaces is not None and not _is_id(replaces):
            raise BoardError("VALIDATION_FAILED", "replaces_turn_id must be a turn id or null")
        if window_ids is None:
            return
        if not isinstance(window_ids, list) or not all(_is_id(i) for i in window_ids):
            raise BoardError("VALIDATION_FAILED", "window_ids must be a list of window ids")
        if not window_ids:
            raise BoardError("VALIDATION_FAILED", i18n.t("board.error.choose_window"))
        known = {w["id"] for w in self.windows}
        unknown = [i for i in window_ids if known and i not in known]
        if unknown:
            raise BoardError(
                "VALIDATION_FAILED", i18n.t("board.error.unknown_windows", windows=unknown)
            )

    def _start_turn(
        self, content: Any, window_ids: Any, request_id: str | None, replaces: Any = None
    ) -> dict[str, Any]:
        backend = self._require_backend()
        self._check_send(content, window_ids, replaces)
        if replaces is None:  # backends written before retries keep working
            result = backend.send_turn(content, window_ids)
        else:
            result = backend.send_turn(content, window_ids, replaces_turn_id=replaces)
        turn_id, ids = result["turn_id"], list(result["window_ids"])
        # Only the view that asked uses a ticket minted now; others ask for their own,
        # since a ticket opens one stream once.
        ticket = None
        if request_id is not None and self.transport == "auto":
            try:
                ticket = backend.stream_ticket(turn_id)
            except Exception as exc:  # the turn runs anyway; the view will ask again
                log.warning("no stream ticket for turn %s: %s", turn_id, exc)
        self._announce(
            turn_id, content, ids, request_id=request_id, ticket=ticket, replaces=replaces
        )
        return {"turn_id": turn_id, "window_ids": ids}

    def _announce(
        self,
        turn_id: int,
        content: str,
        window_ids: list[int],
        request_id: str | None,
        ticket: str | None,
        replaces: int | None = None,
    ) -> None:
        backend = self._require_backend()
        with self._lock:
            self._prompts[turn_id] = content
            self._last_turn_id = turn_id
            self.history = add_turn(self.history, turn_id, content, window_ids, replaces)
        self._send_message(
            {
                "type": "turn",
                "request_id": request_id,
                "turn_id": turn_id,
                "window_ids": window_ids,
                "content": content,
                "replaces_turn_id": replaces,
                "stream": {"path": backend.stream_path(turn_id), "ticket": ticket},
            }
        )
        if not self._follow:
            return
        with self._lock:
            if turn_id not in self._followers:
                source = lambda last: backend.iter_events(turn_id, last)  # noqa: E731
                commit = lambda events: self.apply_events(events, content)  # noqa: E731
                self._followers[turn_id] = TurnFollower(turn_id, source, commit).start()

    # -- custom messages from the front end --------------------------------------------

    def _on_custom_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        request_id = content.get("request_id")
        handler = {
            "send": self._on_send,
            "cancel": self._on_cancel,
            "ticket": self._on_ticket,
            "relay": self._on_relay,
            "vote": self._on_vote,
        }.get(content.get("type"))
        try:
            if handler is None:
                kind = content.get("type")
                raise BoardError("VALIDATION_FAILED", f"unknown message type {kind!r}")
            handler(content)
        except BoardError as exc:
            self._send_error(request_id, exc, content.get("turn_id"))
        except Exception as exc:  # the user must see it in the board, not only in a log
            log.exception("board message %r failed", content.get("type"))
            error = BoardError("INTERNAL_ERROR", f"{type(exc).__name__}: {exc}")
            self._send_error(request_id, error, content.get("turn_id"))

    def _send_events(self, turn_id: int, events: list[Event]) -> None:
        self._send_message({"type": "events", "turn_id": turn_id, "events": events})

    def _send_error(self, request_id: Any, error: BoardError, turn_id: Any = None) -> None:
        self._send_message(
            {
                "type": "error",
                "request_id": request_id,
                "turn_id": turn_id if _is_id(turn_id) else None,
                **error.to_json(),
            }
        )

    @staticmethod
    def _turn_id(content: Mapping[str, Any]) -> int:
        turn_id = content.get("turn_id")
        if not _is_id(turn_id):
            raise BoardError("VALIDATION_FAILED", "turn_id must be an integer")
        return turn_id

    def _on_send(self, content: Mapping[str, Any]) -> None:
        self._start_turn(
            content.get("content"),
            content.get("window_ids"),
            content.get("request_id"),
            content.get("replaces_turn_id"),
        )

    def _on_cancel(self, content: Mapping[str, Any]) -> None:
        window_ids = content.get("window_ids")
        if window_ids is not None and not (
            isinstance(window_ids, list) and all(_is_id(i) for i in window_ids)
        ):
            raise BoardError("VALIDATION_FAILED", "window_ids must be a list of window ids")
        self._require_backend().cancel(self._turn_id(content), window_ids)

    def _on_ticket(self, content: Mapping[str, Any]) -> None:
        turn_id = self._turn_id(content)
        ticket = self._require_backend().stream_ticket(turn_id)
        self._send_message(
            {
                "type": "ticket",
                "request_id": content.get("request_id"),
                "turn_id": turn_id,
                "ticket": ticket,
            }
        )

    def _on_vote(self, content: Mapping[str, Any]) -> None:
        self.vote(content.get("winner"), self._turn_id(content))

    def _on_relay(self, content: Mapping[str, Any]) -> None:
        turn_id = self._turn_id(content)
        last = content.get("last_event_id")
        if last is not None and not _is_id(last):
            raise BoardError("VALIDATION_FAILED", "last_event_id must be an integer or null")
        backend = self._require_backend()
        key = (turn_id, last)
        with self._lock:
            running = self._relays.get(key)
            if running is not None and running.running:
                return  # a second view asked for the very same stream
            self._relays[key] = Relay(
                lambda after: backend.iter_events(turn_id, after),
                last,
                lambda batch: self._send_events(turn_id, batch),
                lambda error: self._send_error(None, error, turn_id),
            ).start()
