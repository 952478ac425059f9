""":class:`Session`: one signed-in connection to a ChatMore server, and its calls.

The module-level functions of ``chatmore_kernel`` are these methods on the default
session. Every call raises :class:`~chatmore_kernel.errors.ChatMoreError` on failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from widgets.i18n import t

from . import catalog
from .boards import open_board
from .catalog import ModelRef
from .config import find_credentials, server_url
from .conversation_list import (
    add_window,
    clean_tags,
    conversations_frame,
    list_conversations,
    update_conversation,
)
from .experiments import (
    Experiment,
    build_cases,
    build_windows,
    experiments_frame,
    open_experiment,
)
from .experiments import start as start_experiment
from .frames import frame_from_records
from .http import ApiClient
from .judging import leaderboard_frame, scores_frame, votes_frame, with_scores
from .judging import score as _score
from .judging import vote as _vote
from .query import TimeLike, id_param, iso_time
from .result_frames import results_frame, turns_frame
from .schemas import SHARES
from .search import hits_frame, search_hits
from .single_turn import ask as _ask
from .templates import fill_template, list_templates, templates_frame
from .transfer import export_conversation, import_conversation
from .usage import usage_frame


def api_keys_frame(keys: list[dict[str, Any]]) -> pd.DataFrame:
    columns = [
        "id",
        "name",
        "last4",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "user_id",
    ]
    if any("user_email" in key for key in keys):
        columns.append("user_email")
    frame = pd.DataFrame(keys, columns=columns)
    for name in ("created_at", "expires_at", "last_used_at", "revoked_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    return frame


def _conversation_id(value: Any) -> int | None:
    """An id, or anything with a ``conversation_id`` (a board)."""
    value = getattr(value, "conversation_id", value)
    return id_param(value, "conversation")


class Session:
    """A signed-in connection: ``url`` (the server), ``user`` (the account, a dict)."""

    def __init__(
        self,
        url: str | None = None,
        email: str | None = None,
        password: str | None = None,
        *,
        refresh_token: str | None = None,
    ) -> None:
        base = server_url(url)
        if refresh_token is not None:
            self._api = ApiClient(base, refresh_token=refresh_token)
            return
        credentials = find_credentials(email, password)
        self._api = ApiClient(base, credentials.email, credentials.password)

    @property
    def url(self) -> str:
        return self._api.url

    @property
    def user(self) -> dict[str, Any]:
        return dict(self._api.user)

    def __repr__(self) -> str:
        state = t("repr.session_closed") if self._api.closed else self._api.user.get("email", "?")
        return t("repr.session", state=state, url=self.url)

    # -- account -----------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        """The signed-in account, as the server knows it now."""
        return self._api.get("auth/me")

    def logout(self) -> None:
        """End the session on the server (its refresh tokens are revoked) and here."""
        self._api.logout()
        self._api.close()

    def close(self) -> None:
        """Close the connections; the tokens are forgotten."""
        self._api.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- models ------------------------------------------------------------------------

    def models(self, all: bool = False) -> pd.DataFrame:
        """The enabled models; ``all=True`` adds the disabled ones (admins see them)."""
        return catalog.models_frame(catalog.list_models(self._api, include_disabled=all))

    def create_model(
        self,
        name: str,
        base_url: str,
        upstream_model: str,
        api_key: str | None = None,
        provider_name: str = "",
        default_params: Mapping[str, Any] | None = None,
        notes: str | None = None,
        enabled: bool = True,
        pricing: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Register an upstream model (admins). The key is stored encrypted; the answer
        only says whether one is set and its last four characters. ``pricing`` is
        ``{"input": 0.15, "output": 0.6, "currency": "USD"}``, per million tokens:
        every result then carries its ``cost`` (without prices, it has none)."""
        return catalog.create_model(
            self._api,
            name=name,
            base_url=base_url,
            upstream_model=upstream_model,
            api_key=api_key,
            provider_name=provider_name,
            default_params=dict(default_params) if default_params is not None else None,
            notes=notes,
            enabled=enabled,
            pricing=dict(pricing) if pricing is not None else None,
        )

    def update_model(self, model: ModelRef, **changes: Any) -> dict[str, Any]:
        """Change a model's fields (admins): name, base_url, upstream_model, api_key,
        provider_name, default_params, notes, enabled, pricing (``None`` removes the
        prices)."""
        return catalog.update_model(self._api, model, changes)

    def model(self, model: ModelRef) -> dict[str, Any]:
        """One model's whole record by name or id. Admins also see its base URL in use
        and whether an API key is set (``api_key: {"set", "last4"}``) — never the key."""
        return catalog.get_model(self._api, model)

    def test_model(self, model: ModelRef) -> dict[str, Any]:
        """Call the model once: ``{"ok", "latency_ms", "error"?}`` (admins)."""
        return catalog.test_model(self._api, model)

    # -- personal API keys (the gateway) ------------------------------------------------

    def create_api_key(
        self, name: str, expires_in_days: float | None = None, expires_at: str | None = None
    ) -> dict[str, Any]:
        """Make a personal API key for ``chatmore/v1/`` (OpenAI clients). The answer's
        ``key`` is shown this once: only its hash is kept."""
        body: dict[str, Any] = {"name": name}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        if expires_at is not None:
            body["expires_at"] = expires_at
        return self._api.post("api/keys", body)

    def api_keys(self, everyone: bool = False) -> pd.DataFrame:
        """Your API keys (``everyone=True``: every user's, admins): name, last four
        characters, state, expiry and last use; never the key."""
        keys = self._api.get("api/keys", scope="all" if everyone else None)["keys"]
        return api_keys_frame(keys)

    def revoke_api_key(self, key_id: int) -> dict[str, Any]:
        """Revoke an API key of yours (admins: anyone's); it stops working at once."""
        return self._api.request("DELETE", f"api/keys/{int(key_id)}").json()

    # -- conversations and results -------------------------------------------------------

    def conversations(
        self, archived: bool | str = False, search: str | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Your conversations, newest first, with the start of each one's first prompt;
        ``archived=True`` the archived ones, "all" both; ``search`` keeps those whose
        title holds that text (any case); ``limit``: only that many, the newest."""
        return conversations_frame(list_conversations(self._api, archived, search, limit))

    def conversation(self, conversation: Any) -> dict[str, Any]:
        """A conversation (an id or a board) as the server has it: title, tags, windows."""
        return self._api.get(f"api/conversations/{self._required(conversation, 'conversation')}")

    def rename(self, conversation: Any, title: str) -> dict[str, Any]:
        """Give a conversation (an id or a board) a new title."""
        return update_conversation(
            self._api, self._required(conversation, "rename"), {"title": title}
        )

    def tag(self, conversation: Any, tags: str | Iterable[str]) -> dict[str, Any]:
        """Set a conversation's tags (a list, or one comma-separated string); they
        replace the ones it had."""
        conversation_id = self._required(conversation, "tag")
        return update_conversation(self._api, conversation_id, {"tags": clean_tags(tags)})

    def add_window(
        self,
        conversation: Any,
        model: ModelRef,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        system_prompt: str | None = None,
    ) -> dict[str, Any]:
        """Add a column to a conversation (an id or a board): ``model`` with its own
        ``params`` and ``system_prompt``. It joins from the next turn; reopen the
        conversation with :meth:`board` to see it. Returns the conversation."""
        window = {"model": model, "name": name, "params": params, "system_prompt": system_prompt}
        return add_window(self._api, self._required(conversation, "add_window"), window)

    @staticmethod
    def _required(conversation: Any, method: str) -> int:
        conversation_id = _conversation_id(conversation)
        if conversation_id is None:
            raise TypeError(f"{method}() takes a conversation id or a board")
        return conversation_id

    def archive(self, conversation: Any, archived: bool = True) -> dict[str, Any]:
        """Archive a conversation (an id or a board), or bring it back with
        ``archived=False``; archived ones leave :meth:`conversations`' default list."""
        conversation_id = _conversation_id(conversation)
        if conversation_id is None:
            raise TypeError("archive() takes a conversation id or a board")
        return self._api.patch(f"api/conversations/{conversation_id}", {"archived": archived})

    def _result_params(
        self,
        conversation: Any,
        model: ModelRef | None,
        since: TimeLike,
        until: TimeLike,
        everyone: bool = False,
    ) -> dict[str, Any]:
        model_id = None
        if model is not None:
            known = catalog.list_models(self._api, include_disabled=True)
            model_id = catalog.find_model(known, model)["id"]
        params = {
            "conversation_id": _conversation_id(conversation),
            "model_id": model_id,
            "from": iso_time(since, "since"),
            "to": iso_time(until, "until"),
            "scope": "all" if everyone else None,
        }
        return {k: v for k, v in params.items() if v is not None}

    def results(
        self,
        conversation: Any = None,
        model: ModelRef | None = None,
        since: TimeLike = None,
        until: TimeLike = None,
        text: bool = True,
        everyone: bool = False,
        scores: bool = False,
    ) -> pd.DataFrame:
        """One row per turn × window: the model, its params, the prompt and reply (unless
        ``text=False``), status, source, the turn a retry or an edited prompt replaced,
        tokens, TTFT, latency and times. ``since`` is
        inclusive, ``until`` exclusive; ``everyone=True`` (admins) reads every user's;
        ``scores=True`` adds a ``score_<scorer>`` column per scorer."""
        params = self._result_params(conversation, model, since, until, everyone)
        rows = results_frame(self._api, params, text=text)
        if scores:
            scope = {k: v for k, v in params.items() if k in ("conversation_id", "scope")}
            rows = with_scores(rows, scores_frame(self._api, scope))
        return rows

    def turns(
        self,
        conversation: Any = None,
        model: ModelRef | None = None,
        since: TimeLike = None,
        until: TimeLike = None,
    ) -> pd.DataFrame:
        """One row per turn: its prompt, mode and source, the turn it replaced (a retry or
        an edited prompt; else null), how many windows it went to and how they ended."""
        params = self._result_params(conversation, model, since, until)
        return turns_frame(results_frame(self._api, params, text=True))

    def stats(
        self,
        since: TimeLike = None,
        until: TimeLike = None,
        model: ModelRef | None = None,
        by: str = "model",
        everyone: bool = False,
        source: str | None = None,
    ) -> pd.DataFrame:
        """Usage per model (``by="day"``: per model and UTC day; ``"source"``: per model
        and where the calls came from; ``"day,source"``: both), computed by the server:
        calls, outcomes, success rate, latency and TTFT (avg, p50, p95), tokens.
        ``source`` counts only the calls of one source (board, ask, gateway, experiment,
        judge, import: results copied in from an exported conversation)."""
        params = self._result_params(None, model, since, until, everyone)
        if source is not None:
            params["source"] = source
        return usage_frame(self._api, params, by)

    def search(self, q: str, limit: int = 50, everyone: bool = False) -> pd.DataFrame:
        """Your prompts and replies that hold every word of ``q`` (``word*``: words that
        start so), best first, at most ``limit``: the conversation, window, model and
        turn of each, and a snippet (HTML: escaped text, matches in ``<mark>``).
        ``everyone=True`` (admins) searches every user's."""
        return hits_frame(search_hits(self._api, q, limit=limit, everyone=everyone))

    def export(
        self, conversation: Any, path: str | os.PathLike[str], format: str | None = None
    ) -> Path:
        """Write a conversation (an id or a board) to ``path``: Markdown (``.md``, a
        section per turn, each window's reply with its model, params, timings, tokens and
        status) or JSON (``.json``, everything needed to rebuild it); ``format`` ("md" or
        "json") overrides the suffix. Returns the path."""
        conversation_id = _conversation_id(conversation)
        if conversation_id is None:
            raise TypeError("export() takes a conversation id or a board")
        return export_conversation(self._api, conversation_id, path, format)

    def import_conversation(self, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Make a new conversation of yours from a JSON export. Its models are found by
        name; a missing one is an error (MODEL_NOT_FOUND) and nothing is created."""
        return import_conversation(self._api, path)

    # -- share links ---------------------------------------------------------------------

    def share(self, conversation: Any, expires_in_days: float | None = None) -> dict[str, Any]:
        """A read-only link to a conversation (an id or a board) that opens without
        signing in; ``url`` is shown this once. Revoke it with :meth:`revoke_share`."""
        conversation_id = _conversation_id(conversation)
        if conversation_id is None:
            raise TypeError("share() takes a conversation id or a board")
        body = {} if expires_in_days is None else {"expires_in_days": expires_in_days}
        link = self._api.post(f"api/conversations/{conversation_id}/shares", body)
        return {**link, "url": self.url + link["path"]}

    def shares(self) -> pd.DataFrame:
        """Your share links, newest first (without their tokens)."""
        return frame_from_records(SHARES, self._api.get("api/shares")["shares"])

    def revoke_share(self, link_id: int) -> dict[str, Any]:
        """Revoke a share link: its page is gone at once."""
        return self._api.request("DELETE", f"api/shares/{int(link_id)}").json()

    # -- prompt templates ----------------------------------------------------------------

    def templates(self) -> pd.DataFrame:
        """Your prompt templates and the shared ones: name, body, its ``{variables}``."""
        return templates_frame(list_templates(self._api))

    def create_template(self, name: str, body: str, shared: bool = False) -> dict[str, Any]:
        """A named system prompt with ``{variables}`` (``{{``/``}}`` for braces);
        ``shared=True`` (admins) offers it to everyone."""
        return self._api.post("api/templates", {"name": name, "body": body, "shared": shared})

    def fill_template(self, template: int | str, **variables: str) -> str:
        """A template (name or id) with its variables filled: a system prompt for
        :meth:`board` or :meth:`ask`."""
        return fill_template(self._api, template, variables)

    # -- judging -------------------------------------------------------------------------

    def vote(
        self,
        turn: Any,
        winner: int | str,
        result_ids: Iterable[int] | None = None,
        blind: bool = False,
    ) -> dict[str, Any]:
        """Judge one of your turns (its id, or the frame :meth:`ask` returned):
        ``winner`` is the best result (a ``result_id``, or its window's or model's name),
        ``"tie"`` or ``"all_bad"``. ``result_ids`` are the results compared (default: all
        the turn's). Voting again on the turn changes your vote."""
        return _vote(self._api, turn, winner, result_ids, blind)

    def votes(
        self,
        conversation: Any = None,
        since: TimeLike = None,
        until: TimeLike = None,
        everyone: bool = False,
    ) -> pd.DataFrame:
        """Your votes, oldest first (``everyone=True``: every user's, admins)."""
        params = self._result_params(conversation, None, since, until, everyone)
        return votes_frame(self._api, params)

    def score(self, rows: pd.DataFrame, scorer: Any, name: str | None = None) -> pd.DataFrame:
        """Score the results in ``rows`` (a :meth:`results` frame) and store the scores:
        ``scorer`` is a spec from ``chatmore_kernel.scorers`` (run by the server; an LLM
        judge's calls are recorded with source "judge") or a function of a row returning
        a number in [0, 1], a bool, or ``(value, rationale)`` (run here). Returns the
        scores; ``.attrs["errors"]`` lists the results a judge could not score."""
        return _score(self._api, rows, scorer, name)

    def scores(
        self, conversation: Any = None, scorer: str | None = None, everyone: bool = False
    ) -> pd.DataFrame:
        """The scores of your results (``everyone=True``: everyone's, admins)."""
        params = self._result_params(conversation, None, None, None, everyone)
        if scorer is not None:
            params["scorer"] = scorer
        return scores_frame(self._api, params)

    def leaderboard(
        self,
        since: TimeLike = None,
        until: TimeLike = None,
        source: str | Iterable[str] | None = None,
        by: str = "model",
        reference: str | None = None,
        rounds: int | None = None,
        everyone: bool = False,
        user_id: int | None = None,
        experiment: Any = None,
    ) -> pd.DataFrame:
        """Per model (``by="model_params"``: per model and params), best first: the
        Bradley–Terry rating from your votes with its 95% bootstrap interval (``rounds``
        samples) and vote count, anchored at 1000 at ``reference`` (default: the most
        compared); success rate, latency and TTFT p50/p95, output tokens/s, cost per
        1,000 replies, and each scorer's mean as ``score_<name>``. Filters: ``since``
        (inclusive), ``until`` (exclusive), ``source`` ("board", "ask", "gateway",
        "experiment", "judge", "import", or several); admins may read ``everyone=True`` or one
        ``user_id``; ``experiment`` (an id or a handle) keeps only that experiment's
        cells."""
        params = self._result_params(None, None, since, until, everyone)
        if experiment is not None:
            params["experiment_id"] = int(getattr(experiment, "id", experiment))
        if source is not None:
            params["source"] = source if isinstance(source, str) else ",".join(source)
        params.update({"by": by, "reference": reference, "rounds": rounds, "user_id": user_id})
        return leaderboard_frame(self._api, {k: v for k, v in params.items() if v is not None})

    # -- turns ---------------------------------------------------------------------------

    def ask(
        self,
        prompt: str,
        models: ModelRef | Iterable[ModelRef | Mapping[str, Any]],
        params: Mapping[str, Any] | None = None,
        system_prompt: str | None = None,
        timeout: float = 120,
    ) -> pd.DataFrame:
        """Send ``prompt`` to ``models`` (names, ids, or window dicts as for
        :meth:`board`) in a new conversation, wait for every reply (at most ``timeout``
        seconds; then the turn is cancelled) and return that turn's results rows. They
        are stored with source ``"ask"`` (a board's with ``"board"``)."""
        return _ask(self._api, prompt, models, params, system_prompt, timeout)

    def board(
        self,
        models: ModelRef | Iterable[ModelRef] | None = None,
        windows: Iterable[Mapping[str, Any]] | None = None,
        conversation: int | None = None,
        title: str | None = None,
        height: int = 520,
        transport: str = "auto",
        blind: bool = False,
    ) -> Any:
        """A board widget: one column per model (``models``) or per window (``windows``:
        ``{"model": name|id, "name", "params", "system_prompt"}``), in a new
        conversation; or ``conversation=<id>`` to reopen one with its history.
        ``transport="relay"`` streams through the kernel instead of straight from the
        server (for front ends that cannot reach it). ``blind=True`` hides the models'
        names and shuffles the columns until you vote (``board.vote(...)`` or the vote
        bar under the columns)."""
        return open_board(
            self._api,
            models=models,
            windows=windows,
            conversation=_conversation_id(conversation),
            title=title,
            height=height,
            transport=transport,
            blind=blind,
        )

    # -- experiments -----------------------------------------------------------------------

    def run(
        self,
        prompts: Any,
        models: ModelRef | Iterable[ModelRef | Mapping[str, Any]],
        grid: Mapping[str, Iterable[Any]] | None = None,
        samples: int = 1,
        concurrency: int = 16,
        name: str | None = None,
        system_prompt: str | None = None,
        template: str | None = None,
        wait: bool = True,
        progress: bool = True,
    ) -> Experiment:
        """Run ``prompts`` on every model (or window dict) and every point of ``grid``
        (``{"temperature": [0, 0.7]}``: one window per model and value), ``samples``
        times each, as an experiment in the server; each prompt is sent on its own.
        ``prompts`` is a list, a Series, or a DataFrame with a ``prompt`` column, or
        filled into ``template`` (``"Translate {text} to {lang}"``) from its columns; the
        other columns come back in ``.results()``. Shows a live progress bar until it
        ends (``wait=False`` returns at once); interrupting cancels it in the server,
        keeping what finished. Returns the :class:`Experiment`."""
        cases = build_cases(prompts, template)
        windows = build_windows(self._api, models, grid)
        experiment = start_experiment(
            self._api,
            cases=cases,
            windows=windows,
            samples=samples,
            concurrency=concurrency,
            name=name,
            system_prompt=system_prompt,
            template=template,
        )
        return experiment.wait(progress) if wait else experiment

    def replay(
        self,
        conversation: Any,
        models: ModelRef | Iterable[ModelRef | Mapping[str, Any]],
        name: str | None = None,
        system_prompt: str | None = None,
        wait: bool = True,
        progress: bool = True,
    ) -> Experiment:
        """Re-send a stored conversation's prompts (an id or a board), turn by turn, to
        ``models``, each window with its own context, as an experiment."""
        conversation_id = _conversation_id(conversation)
        if conversation_id is None:
            raise TypeError("replay() takes a conversation id or a board")
        experiment = start_experiment(
            self._api,
            cases=None,
            windows=build_windows(self._api, models, None),
            replay=conversation_id,
            name=name or f"replay of conversation {conversation_id}",
            system_prompt=system_prompt,
        )
        return experiment.wait(progress) if wait else experiment

    def experiments(self) -> pd.DataFrame:
        """Your experiments, newest first, with their progress and cost."""
        return experiments_frame(self._api)

    def experiment(self, experiment_id: int) -> Experiment:
        """Reopen an experiment by id."""
        return open_experiment(self._api, experiment_id)
