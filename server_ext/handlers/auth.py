"""``chatmore/auth/*``: register, login, refresh, logout, logout-all, me,
change-password."""

from __future__ import annotations

from ..services import schemas as s
from ..services.auth import Session, public_user
from .auth_decorators import authenticated, same_site_only
from .base import ApiHandler
from .operations import operation

REFRESH_COOKIE = "chatmore_refresh"
SESSION = {200: s.SESSION}


class AuthHandler(ApiHandler):
    """Shared by the auth endpoints: the refresh cookie and the client's description."""

    @property
    def cookie_path(self) -> str:
        return f"{self.settings.get('base_url', '/')}chatmore/auth"

    def client_info(self) -> tuple[str, str]:
        return self.request.headers.get("User-Agent", ""), self.request.remote_ip or ""

    def send_session(self, session: Session, status: int = 200) -> None:
        mode = self.runtime.settings.cookie_secure
        secure = mode == "true" or (mode == "auto" and self.request.protocol == "https")
        self.set_cookie(
            REFRESH_COOKIE,
            session.refresh.token,
            path=self.cookie_path,
            httponly=True,
            secure=secure,
            samesite=self.runtime.settings.cookie_samesite,
            expires_days=None,
            max_age=int(session.refresh.ttl),
        )
        self.send(session.to_json(), status=status)

    def drop_cookie(self) -> None:
        self.clear_cookie(REFRESH_COOKIE, path=self.cookie_path)

    def refresh_cookie(self) -> str | None:
        return self.get_cookie(REFRESH_COOKIE)


class RegisterHandler(AuthHandler):
    @operation("Create an account", access="public", body=s.REGISTER, answers={201: s.USER})
    async def post(self) -> None:
        body = self.json_body()
        user = await self.runtime.auth.register(
            body.get("email"), body.get("password"), body.get("display_name")
        )
        self.send(public_user(user), status=201)


class LoginHandler(AuthHandler):
    @operation("Sign in; sets the refresh cookie", access="public", body=s.LOGIN, answers=SESSION)
    async def post(self) -> None:
        body = self.json_body()
        session = await self.runtime.auth.login(
            body.get("email"), body.get("password"), *self.client_info()
        )
        self.send_session(session)


class RefreshHandler(AuthHandler):
    @operation("A new access token for the refresh cookie", access="cookie", answers=SESSION)
    @same_site_only
    async def post(self) -> None:
        try:
            session = await self.runtime.auth.refresh(self.refresh_cookie(), *self.client_info())
        except Exception:
            self.drop_cookie()
            raise
        self.send_session(session)


class LogoutHandler(AuthHandler):
    @operation("End the cookie's session, if any", access="cookie_if_any", answers={204: "none"})
    @same_site_only
    async def post(self) -> None:
        await self.runtime.auth.logout(self.refresh_cookie())
        self.drop_cookie()
        self.set_status(204)
        self.finish()


class LogoutAllHandler(AuthHandler):
    """Log out everywhere: every session of the caller ends, this one included."""

    @operation(
        "End every session of the caller: refresh tokens and access tokens alike",
        access="user",
        answers={204: "none"},
    )
    @authenticated()
    async def post(self) -> None:
        await self.runtime.auth.logout_everywhere(self.user)
        self.drop_cookie()
        self.set_status(204)
        self.finish()


class MeHandler(AuthHandler):
    @operation("The caller's account", access="user", answers={200: s.USER})
    @authenticated()
    async def get(self) -> None:
        user = await self.runtime.auth.profile(self.user.id)
        self.send({**public_user(user), "quota": await self.runtime.quotas.status(self.user.id)})


class ChangePasswordHandler(AuthHandler):
    @operation(
        "Change the password; every other session ends",
        access="user",
        body=s.CHANGE_PASSWORD,
        answers=SESSION,
    )
    @authenticated()
    async def post(self) -> None:
        body = self.json_body()
        session = await self.runtime.auth.change_password(
            self.user,
            body.get("current_password"),
            body.get("new_password"),
            *self.client_info(),
        )
        self.send_session(session)
