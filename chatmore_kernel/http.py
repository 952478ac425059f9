"""The kernel's HTTP client of the ChatMore API: login, bearer calls, token refresh.

:class:`ApiClient` wraps one ``httpx.Client`` whose base URL is the server's
``chatmore/`` API. The access token lives in this object's memory only (never on disk,
never in a header default, a repr or a widget); the refresh token is the HttpOnly cookie
the server set, kept in the client's cookie jar. The token is refreshed shortly before it
expires and once when the server answers ``AUTH_TOKEN_EXPIRED`` (a kernel that slept
through its token's life). Refreshes are serialised by a lock: the server rotates the
refresh token on each use, and presenting a rotated one revokes the whole family, so two
threads must never refresh the same token.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from widgets.i18n import t

from .errors import ChatMoreError, from_response, from_transport

API_PREFIX = "chatmore/"
# Cookie-authenticated calls (refresh, logout) must carry this header (DESIGN §7).
CSRF_HEADERS = {"X-Requested-With": "ChatMore"}
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "chatmore-kernel"
REFRESH_COOKIE = "chatmore_refresh"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BearerAuth(httpx.Auth):
    """The access token for one request. Holding it in this object (not in a header dict
    or a local string) keeps it out of reprs and of verbose tracebacks."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "<BearerAuth (hidden)>"


def refresh_margin(ttl: float) -> float:
    """How long before expiry a token is refreshed: a fifth of its life, at most a minute."""
    return min(60.0, ttl / 5)


class ApiClient:
    """A logged-in connection to one ChatMore server (thread-safe)."""

    def __init__(
        self,
        url: str,
        email: str | None = None,
        password: str | None = None,
        *,
        refresh_token: str | None = None,
    ) -> None:
        """Sign in with ``email`` and ``password``, or take over the session of
        ``refresh_token`` (a refresh token the server handed over, as the dashboard
        server does for the kernels it starts for a signed-in visitor)."""
        self.url = url
        self.user: dict[str, Any] = {}
        self._http = httpx.Client(
            base_url=url + API_PREFIX,
            timeout=DEFAULT_TIMEOUT,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self._auth: BearerAuth | None = None
        self._expires_at = 0.0  # time.monotonic() at which the token is no longer good
        self._ttl = 0.0
        self._refresh_lock = threading.Lock()
        try:
            if refresh_token is not None:
                self._take_over(refresh_token)
            else:
                self._login(email or "", password or "")
        except BaseException:
            self._http.close()
            raise

    # -- the session's token ---------------------------------------------------------------

    def _accept(self, answer: dict[str, Any], sent_at: float) -> None:
        try:
            token, ttl = str(answer["access_token"]), float(answer["expires_in"])
        except (KeyError, TypeError, ValueError):
            raise ChatMoreError("BAD_RESPONSE", t("error.login_no_token")) from None
        self._auth, self._ttl = BearerAuth(token), ttl
        # Counted from when the request left, so that the estimate errs on the early side.
        self._expires_at = sent_at + ttl
        if isinstance(answer.get("user"), dict):
            self.user = answer["user"]

    def _login(self, email: str, password: str) -> None:
        sent_at = time.monotonic()
        answer = self._send("POST", "auth/login", json={"email": email, "password": password})
        self._accept(answer.json(), sent_at)

    def _take_over(self, refresh_token: str) -> None:
        url = httpx.URL(self.url)
        self._http.cookies.set(
            REFRESH_COOKIE, refresh_token, domain=url.host, path=f"{url.path}{API_PREFIX}auth"
        )
        sent_at = time.monotonic()
        answer = self._send("POST", "auth/refresh", headers=self._cookie_headers())
        self._accept(answer.json(), sent_at)

    def _refresh(self, stale: BearerAuth) -> BearerAuth:
        """A fresh access token; ``stale`` is the one the caller found too old. Only one
        thread refreshes; the others wait and take its result."""
        with self._refresh_lock:
            if self._auth is None:
                raise ChatMoreError("SESSION_CLOSED", t("error.session_closed"))
            if self._auth is not stale and not self._expiring():
                return self._auth  # another thread refreshed it meanwhile
            sent_at = time.monotonic()
            try:
                answer = self._send("POST", "auth/refresh", headers=self._cookie_headers())
            except ChatMoreError as exc:
                if exc.code.startswith("AUTH_"):
                    raise ChatMoreError(
                        exc.code,
                        t("error.session_not_renewable", message=exc.message),
                        exc.status,
                    ) from None
                raise
            self._accept(answer.json(), sent_at)
            assert self._auth is not None
            return self._auth

    def _cookie_headers(self) -> dict[str, str]:
        """Headers of a cookie-authenticated call. A Secure refresh cookie is sent over
        plain http to a loopback server too, as browsers do (http.cookiejar would not),
        so that a server behind a local TLS proxy with COOKIE_SECURE=true still works."""
        url = httpx.URL(self.url)
        if url.scheme != "http" or not _is_loopback(url.host):
            return dict(CSRF_HEADERS)
        secure = [c for c in self._http.cookies.jar if c.name == REFRESH_COOKIE and c.secure]
        if not secure:
            return dict(CSRF_HEADERS)
        return {**CSRF_HEADERS, "Cookie": f"{REFRESH_COOKIE}={secure[-1].value}"}

    def _expiring(self) -> bool:
        return time.monotonic() >= self._expires_at - refresh_margin(self._ttl)

    def _bearer(self) -> BearerAuth:
        auth = self._auth
        if auth is None:
            raise ChatMoreError("SESSION_CLOSED", t("error.session_closed"))
        if self._expiring():
            auth = self._refresh(auth)
        return auth

    # -- requests ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; an error answer or a transport failure raises ChatMoreError."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise from_transport(exc, self.url) from None
        if response.is_error:
            raise from_response(response)
        return response

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated API call (``path`` relative to ``chatmore/``)."""
        auth = self._bearer()
        try:
            return self._send(method, path, auth=auth, **kwargs)
        except ChatMoreError as exc:
            if exc.code != "AUTH_TOKEN_EXPIRED":
                raise
        # The token expired sooner than this clock said (a suspended machine): renew once.
        return self._send(method, path, auth=self._refresh(auth), **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return self.request("GET", path, params=clean).json()

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self.request("POST", path, json=body if body is not None else {})
        return response.json() if response.content else None

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, json=body).json()

    @contextmanager
    def stream_post(
        self, path: str, body: dict[str, Any], timeout: httpx.Timeout, headers: dict[str, str]
    ) -> Iterator[httpx.Response]:
        """An authenticated streaming POST (a turn started in one request)."""
        auth = self._bearer()
        try:
            with self._http.stream(
                "POST", path, json=body, auth=auth, headers=headers, timeout=timeout
            ) as response:
                if response.is_error:
                    response.read()
                    raise from_response(response)
                yield response
        except httpx.TransportError as exc:
            raise from_transport(exc, self.url) from None

    @contextmanager
    def stream_get(
        self, path: str, params: dict[str, Any], timeout: httpx.Timeout
    ) -> Iterator[httpx.Response]:
        """A streaming GET with no bearer (SSE is authenticated by its ticket)."""
        try:
            with self._http.stream("GET", path, params=params, timeout=timeout) as response:
                if response.is_error:
                    response.read()
                    raise from_response(response)
                yield response
        except httpx.TransportError as exc:
            raise from_transport(exc, self.url) from None

    # -- ending --------------------------------------------------------------------------

    def logout(self) -> None:
        """Revoke the refresh token family on the server and forget the access token."""
        with self._refresh_lock:
            if self._auth is None:
                return
            try:
                self._send("POST", "auth/logout", headers=self._cookie_headers())
            finally:
                self._auth = None
                self._http.cookies.clear()

    def close(self) -> None:
        """Forget the tokens and close the connections (the server session stays valid
        until its refresh token expires; :meth:`logout` ends it)."""
        with self._refresh_lock:
            self._auth = None
            self._http.cookies.clear()
        self._http.close()

    @property
    def closed(self) -> bool:
        return self._auth is None
