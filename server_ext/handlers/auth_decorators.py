"""Authentication for handler methods: bearer tokens, roles, and the cross-site check of
cookie-authenticated calls."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..errors import ChatMoreError

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

# Cookie-authenticated calls must carry this header. A cross-site form cannot set it,
# and a cross-site script cannot send it without a CORS preflight ChatMore refuses.
CSRF_HEADER = "X-Requested-With"


def authenticated(role: str | None = None) -> Callable[[F], F]:
    """Require a valid access token (``Authorization: Bearer …``); ``role="admin"``
    also requires that role. Sets ``self.user`` (an AuthUser)."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            auth = self.runtime.auth
            self.user = await auth.authenticate(self.request.headers.get("Authorization"))
            if role is not None and self.user.role != role:
                raise ChatMoreError("FORBIDDEN", f"this needs the {role} role")
            return await method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def same_site_only(method: F) -> F:
    """Refuse a cookie-authenticated call that a page of another site could have made."""

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        headers = self.request.headers
        origin = headers.get("Origin")
        trusted = self.runtime.settings.cors_allowed_origins
        own = f"{self.request.protocol}://{self.request.host}"
        same_site = origin is None or origin == own or origin in trusted
        if headers.get("Sec-Fetch-Site") == "cross-site" and origin not in trusted:
            same_site = False
        if not headers.get(CSRF_HEADER) or not same_site:
            raise ChatMoreError(
                "AUTH_CROSS_SITE",
                f"this call needs the {CSRF_HEADER} header and a same-site Origin",
            )
        return await method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
