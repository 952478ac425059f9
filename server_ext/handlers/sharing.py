"""Share links: the owner's API (create, list, revoke) and the read-only page that opens
without signing in."""

from __future__ import annotations

from typing import Any

from ..errors import ChatMoreError
from ..services import schemas as s
from ..services.query_args import parse_id
from .auth_decorators import authenticated
from .base import ApiHandler
from .operations import Query, operation

# The page runs no script and loads nothing from elsewhere; it may not be framed, and its
# address (which holds the token) is never sent on as a referrer.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
NOT_FOUND_PAGE = (
    '<!doctype html><html lang=en><head><meta charset=utf-8><link rel=icon href="data:,">'
    "<title>Not found · ChatMore</title></head><body><p>This link does not open anything:"
    " it was revoked, it expired, or it was never made.</p></body></html>"
)


class ConversationSharesHandler(ApiHandler):
    @operation(
        "A read-only link to the conversation (optional expiry), its token shown once",
        access="user",
        body=s.OPEN_OBJECT,
        answers={201: s.OPEN_OBJECT},
        not_found="CONVERSATION_NOT_FOUND",
    )
    @authenticated()
    async def post(self, conversation_id: int) -> None:
        created = await self.runtime.sharing.create(self.user, conversation_id, self.json_body())
        self.send(created, status=201)

    @operation(
        "The conversation's share links", access="user", answers={200: s.OPEN_OBJECT},
        not_found="CONVERSATION_NOT_FOUND",
    )  # fmt: skip
    @authenticated()
    async def get(self, conversation_id: int) -> None:
        self.send(await self.runtime.sharing.list(self.user, conversation_id))


class SharesHandler(ApiHandler):
    @operation(
        "The caller's share links",
        access="user",
        answers={200: s.OPEN_OBJECT},
        query=(Query("conversation_id", s.ID, "only this conversation's"),),
    )
    @authenticated()
    async def get(self) -> None:
        args = {"conversation_id": self.get_query_argument("conversation_id", "")}
        self.send(await self.runtime.sharing.list(self.user, parse_id(args, "conversation_id")))


class ShareHandler(ApiHandler):
    @operation(
        "Revoke a share link", access="user", answers={200: s.OPEN_OBJECT},
        not_found="SHARE_LINK_NOT_FOUND",
    )  # fmt: skip
    @authenticated()
    async def delete(self, link_id: int) -> None:
        self.send(await self.runtime.sharing.revoke(self.user, link_id))


class SharePageHandler(ApiHandler):
    """``chatmore/share?key={token}``: no authentication, by design: the token is the key.
    It travels as the ``key`` query value, which the access log scrubs."""

    def _page_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        for name, value in PAGE_HEADERS.items():
            self.set_header(name, value)

    @operation(
        "The shared conversation as a read-only page (HTML), no sign-in",
        access="public",
        answers={200: "text/html", 404: "text/html"},
        query=(Query("key", {"type": "string"}, "the link's token"),),
    )
    async def get(self) -> None:
        page = await self.runtime.sharing.page(self.get_query_argument("key", ""))
        self._page_headers()
        self.finish(page)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ChatMoreError) and exc.code == "SHARE_LINK_NOT_FOUND":
            self.set_status(404)
            self._page_headers()
            self.finish(NOT_FOUND_PAGE)
            return
        super().write_error(status_code, **kwargs)
