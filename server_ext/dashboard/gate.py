"""Who gets a kernel: the dashboard page starts one only for a signed-in visitor.

- ``GET {base}`` without a valid sign-in cookie answers the sign-in form (``pages.py``),
  no kernel started. With one, it reserves a place in the kernel ledger (else a "busy"
  page, 503), hands the new kernel a session of its own (a refresh token in the kernel's
  environment, ``HTTP_X_CHATMORE_SESSION``, through Voilà's ``http_header_envs``), and
  serves the notebook as Voilà does.
- ``POST {base}dashboard/sign-in`` checks email and password (the API's login, with its
  lockout and equal timing) and sets the sign-in cookie: a refresh token scoped to the
  base URL, HttpOnly, rotated on every page load.
- ``POST {base}dashboard/sign-out`` (a same-origin form) revokes it and clears it.

Both pages, the sign-in's error messages and the kernel (``X-ChatMore-Locale``) speak the
visitor's language (``language.py``).
"""

from __future__ import annotations

from typing import Any

from voila.tornado.handler import TornadoVoilaHandler

from widgets.i18n import describe_error, t_in

from ..errors import ChatMoreError
from ..handlers.auth_decorators import same_site_only
from ..handlers.base import ApiHandler
from ..runtime import Runtime
from ..services.auth import Session
from .kernels import RESERVATION_HEADER, KernelLedger
from .language import LOCALE_COOKIE, LOCALE_HEADER, visitor_language
from .pages import busy_page, sign_in_page

SIGN_IN_COOKIE = "chatmore_dashboard"
# Carries the kernel's refresh token into its environment as HTTP_X_CHATMORE_SESSION.
SESSION_HEADER = "X-ChatMore-Session"
# Request headers Voilà turns into kernel environment variables; only this module sets
# them (a visitor's own are dropped).
KERNEL_HEADERS = (SESSION_HEADER, RESERVATION_HEADER, LOCALE_HEADER)


class SignInCookie:
    """Setting and reading the sign-in cookie, shared by the page and the two forms."""

    request: Any
    settings: dict[str, Any]

    @property
    def chatmore(self) -> Runtime:
        return self.settings["chatmore_runtime"]

    @property
    def page_url(self) -> str:
        return self.settings.get("server_url") or self.settings.get("base_url", "/")

    @property
    def language(self) -> str:
        """The visitor's language ("en" or "zh"): their choice, else their browser's."""
        return visitor_language(
            self.get_cookie(LOCALE_COOKIE),  # type: ignore[attr-defined]
            self.request.headers.get("Accept-Language"),
        )

    def client_info(self) -> tuple[str, str]:
        return self.request.headers.get("User-Agent", ""), self.request.remote_ip or ""

    def keep_session(self, session: Session) -> None:
        settings = self.chatmore.settings
        mode = settings.cookie_secure
        secure = mode == "true" or (mode == "auto" and self.request.protocol == "https")
        self.set_cookie(  # type: ignore[attr-defined]
            SIGN_IN_COOKIE,
            session.refresh.token,
            path=self.page_url,
            httponly=True,
            secure=secure,
            samesite=settings.cookie_samesite,
            expires_days=None,
            max_age=int(session.refresh.ttl),
        )

    def drop_session(self) -> None:
        self.clear_cookie(SIGN_IN_COOKIE, path=self.page_url)  # type: ignore[attr-defined]


class DashboardPageHandler(SignInCookie, TornadoVoilaHandler):
    """The page at the base URL: the sign-in form, "busy", or the notebook."""

    @property
    def ledger(self) -> KernelLedger:
        return self.settings["chatmore_kernel_ledger"]

    async def get(self, path: str | None = None) -> None:
        for name in KERNEL_HEADERS:
            self.request.headers.pop(name, None)
        session = await self._visitor()
        if session is None:
            signed_out = self.get_query_argument("signed-out", None) is not None
            note = t_in(self.language, "signin.signed_out") if signed_out else ""
            self._answer(200, sign_in_page(self.page_url, self.language, note))
            return
        user = session.user
        reservation = self.ledger.reserve(int(user["id"]))
        if reservation is None:
            reason = self._busy_reason(int(user["id"]))
            self._answer(503, busy_page(self.language, reason))
            return
        # The XSRF cookie with which the page shuts its kernel down when it closes (Voilà's
        # front end reads it from document.cookie; without it the kernel would linger).
        self.xsrf_token  # noqa: B018 (reading it sets the cookie)
        try:
            kernel_session = await self.chatmore.auth.handover(user, *self.client_info())
            self.request.headers[SESSION_HEADER] = kernel_session.refresh.token
            self.request.headers[RESERVATION_HEADER] = reservation
            self.request.headers[LOCALE_HEADER] = self.language
            await super().get(path)
        finally:
            kernel_id = self.ledger.settle(reservation)
            if kernel_id is not None:
                self.kernel_manager.expect_page(kernel_id)

    async def _visitor(self) -> Session | None:
        """The visitor's session from the sign-in cookie (rotated), or None."""
        token = self.get_cookie(SIGN_IN_COOKIE)
        if not token:
            return None
        try:
            session = await self.chatmore.auth.refresh(token, *self.client_info())
        except ChatMoreError:
            self.drop_session()
            return None
        self.keep_session(session)
        return session

    def _busy_reason(self, user_id: int) -> str:
        if self.ledger.count() >= self.ledger.total:
            return t_in(self.language, "busy.full")
        return t_in(self.language, "busy.too_many_pages", count=self.ledger.per_user)

    def _answer(self, status: int, page: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        if status == 503:
            self.set_header("Retry-After", "30")
        self.finish(page)


class SignInHandler(SignInCookie, ApiHandler):
    """``POST dashboard/sign-in`` {email, password} → 204 and the sign-in cookie."""

    @same_site_only
    async def post(self) -> None:
        body = self.json_body()
        try:
            session = await self.runtime.auth.login(
                body.get("email"), body.get("password"), *self.client_info()
            )
        except ChatMoreError as exc:
            # The page shows the message as it is: in the visitor's language.
            said = describe_error(exc.code, exc.message, exc.details, self.language)
            raise ChatMoreError(exc.code, said, **exc.details) from None
        self.keep_session(session)
        self.set_status(204)
        self.finish()


class SignOutHandler(SignInCookie, ApiHandler):
    """``POST dashboard/sign-out`` from the page's own form: the sign-in ends here."""

    async def post(self) -> None:
        origin = self.request.headers.get("Origin")
        own = f"{self.request.protocol}://{self.request.host}"
        if origin != own or self.request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise ChatMoreError("AUTH_CROSS_SITE", "sign out from the dashboard page itself")
        await self.runtime.auth.logout(self.get_cookie(SIGN_IN_COOKIE))
        self.drop_session()
        self.redirect(f"{self.page_url}?signed-out=1", status=303)


def gate_routes(page_url: str) -> list[tuple[str, type, dict[str, Any]]]:
    return [
        (f"{page_url}dashboard/sign-in", SignInHandler, {"route": "/dashboard/sign-in"}),
        (f"{page_url}dashboard/sign-out", SignOutHandler, {"route": "/dashboard/sign-out"}),
    ]
