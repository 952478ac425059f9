"""Votes on turns: ``chatmore/api/votes`` (DESIGN §13).

A vote body::

    {"turn_id": 12, "winner": <result id> | "tie" | "all_bad",
     "result_ids": [...],   # the results compared, in the order shown (default: all the
                            # turn's results, in column order); at least two
     "blind": false}        # whether the model names were hidden while voting

A user votes on their own turns only (another user's turn is TURN_NOT_FOUND), once per
turn: voting again on the same turn changes that vote, as does ``PUT api/votes/{id}``.
Stored: who, the outcome (``best`` with the winning result, ``tie`` or ``all_bad``),
the results compared (those other than the winner lost), blind or not, and when. How
votes become ratings: ``services/ratings.py``.
"""

from __future__ import annotations

from typing import Any

from ..errors import ChatMoreError, validation
from ..store import votes as store
from ..store.db import Database
from .auth import AuthUser
from .query_args import parse_id, parse_range

FIELDS = {"turn_id", "winner", "result_ids", "blind"}
LIST_PARAMETERS = {"turn_id", "conversation_id", "from", "to", "scope"}
PLAIN_OUTCOMES = ("tie", "all_bad")
MAX_LIST = 10_000


def _positive_id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise validation(f"{field} must be a positive integer id", field=field)
    return value


def public(vote: dict[str, Any]) -> dict[str, Any]:
    winner = vote["winner_result_id"]
    return {
        "id": vote["id"],
        "turn_id": vote["turn_id"],
        "conversation_id": vote.get("conversation_id"),
        "user_id": vote["user_id"],
        "outcome": vote["outcome"],
        "winner_result_id": winner,
        "result_ids": vote["result_ids"],
        "loser_result_ids": [r for r in vote["result_ids"] if r != winner]
        if winner is not None
        else [],
        "blind": vote["blind"],
        "created_at": vote["created_at"],
        "updated_at": vote["updated_at"],
    }


class VoteService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def cast(
        self, user: AuthUser, body: dict[str, Any], turn_id: int | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Record the caller's vote (new or changed); and whether it is new."""
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise validation(f"unknown field {unknown[0]!r}", field=unknown[0])
        if turn_id is None:
            turn_id = _positive_id(body.get("turn_id"), "turn_id")
        blind = body.get("blind", False)
        if not isinstance(blind, bool):
            raise validation("blind must be true or false", field="blind")
        vote, new = await self.db.write(self._cast, user.id, turn_id, body, blind)
        return public(vote), new

    def _cast(
        self, conn: Any, user_id: int, turn_id: int, body: dict[str, Any], blind: bool
    ) -> tuple[dict[str, Any], bool]:
        of_turn = store.turn_results_of(conn, user_id, turn_id)
        if of_turn is None:
            raise ChatMoreError("TURN_NOT_FOUND")
        compared = body.get("result_ids")
        if compared is None:
            compared = of_turn
        elif not isinstance(compared, list):
            raise validation("result_ids must be a list of result ids", field="result_ids")
        compared = [_positive_id(r, "result_ids") for r in compared]
        if len(set(compared)) != len(compared) or not set(compared) <= set(of_turn):
            raise validation(
                "result_ids must be distinct results of this turn", field="result_ids"
            )
        if len(compared) < 2:
            raise validation("a vote compares at least two results", field="result_ids")
        winner = body.get("winner")
        if winner in PLAIN_OUTCOMES:
            outcome, winner_id = winner, None
        elif isinstance(winner, int) and not isinstance(winner, bool) and winner in compared:
            outcome, winner_id = "best", winner
        else:
            raise validation(
                'winner must be one of the compared result ids, "tie" or "all_bad"',
                field="winner",
            )
        return store.save_vote(
            conn,
            user_id=user_id,
            turn_id=turn_id,
            outcome=outcome,
            winner_result_id=winner_id,
            result_ids=compared,
            blind=blind,
        )

    async def change(self, user: AuthUser, vote_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT api/votes/{id}``: the same body; the turn cannot change."""
        vote = await self.db.read(store.get_vote, user.id, vote_id)
        if vote is None:
            raise ChatMoreError("VOTE_NOT_FOUND")
        if "turn_id" in body and body["turn_id"] != vote["turn_id"]:
            raise validation("a vote stays on its turn", field="turn_id")
        changed, _ = await self.cast(
            user, {k: v for k, v in body.items() if k != "turn_id"}, vote["turn_id"]
        )
        return changed

    async def get(self, user: AuthUser, vote_id: int) -> dict[str, Any]:
        vote = await self.db.read(store.get_vote, user.id, vote_id)
        if vote is None:
            raise ChatMoreError("VOTE_NOT_FOUND")
        return public(vote)

    async def delete(self, user: AuthUser, vote_id: int) -> None:
        if not await self.db.write(store.delete_vote, user.id, vote_id):
            raise ChatMoreError("VOTE_NOT_FOUND")

    async def list(self, user: AuthUser, args: dict[str, str]) -> dict[str, Any]:
        """The caller's votes (``scope=all``: everyone's, admins), oldest first."""
        refuse_unknown(args, LIST_PARAMETERS)
        which = store.VoteFilter(
            user_id=scope_user(user, args),
            turn_id=parse_id(args, "turn_id"),
            conversation_id=parse_id(args, "conversation_id"),
            **dict(zip(("start", "end"), parse_range(args), strict=True)),
        )
        found = await self.db.read(store.list_votes, which, MAX_LIST)
        return {"votes": [public(v) for v in found]}


def scope_user(user: AuthUser, args: dict[str, str]) -> int | None:
    """The user whose data a listing reads: the caller's, or everyone's (None) when an
    admin asks for ``scope=all``."""
    scope = args.get("scope") or "mine"
    if scope not in ("mine", "all"):
        raise validation("scope must be mine or all", field="scope")
    if scope == "all" and not user.is_admin:
        raise ChatMoreError("FORBIDDEN", "only admins read everyone's")
    return None if scope == "all" else user.id


def refuse_unknown(args: dict[str, str], known: set[str]) -> None:
    unknown = sorted(set(args) - known)
    if unknown:
        raise validation(f"unknown parameter {unknown[0]!r}", field=unknown[0])
