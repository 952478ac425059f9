"""Which provider addresses ChatMore may call (DESIGN §7 "Provider base URLs").

Two checks, at two moments:

- :func:`validate_base_url`, when an admin saves a model: the URL's syntax and scheme
  (http or https, a host, no credentials, no query or fragment), that the provider
  client can request it (:func:`request_url`, which the client also uses: the policy and
  the client agree on what a URL is), and literal addresses that are never allowed. It
  does not resolve the host: a name can point anywhere later.
- :class:`GuardedNetworkBackend`, on every call, at connect time: the host is resolved,
  every address it resolves to is checked against :class:`AddressPolicy`, and the
  connection goes to an address that was checked — so a name that changes its answer
  between a check and a connect (DNS rebinding) cannot slip through.

Link-local and cloud metadata addresses (and unspecified, multicast, reserved ones) are
always refused; loopback and private ones only when ``allow_private`` is off.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from ..errors import ChatMoreError, validation

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

# Never reachable, whatever the configuration: metadata services and link-local ranges.
ALWAYS_REFUSED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # link-local, incl. 169.254.169.254 (AWS, GCP, Azure metadata)
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
    )
)

# "This network": connecting to 0.0.0.0 reaches the local host on Linux.
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")

PRIVATE_REFUSED = "a loopback or private address, which this server does not call"

# IPv6 forms that carry an IPv4 address inside: checked as that IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


# A host name as httpx sends it (IDNA already applied), or the last label of one that
# URL parsers read as a number (WHATWG: a host ending in a number is an IPv4 address).
_HOST_NAME = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class AddressRefused(Exception):
    """A provider host resolved to an address the policy refuses."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        self.host = host
        self.address = address
        self.reason = reason
        super().__init__(f"{host} resolves to {address}, {reason}")


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why this address may not be called, or None when it may."""
        ip = _embedded_ipv4(ipaddress.ip_address(address))
        if any(ip in net for net in ALWAYS_REFUSED) or ip.is_link_local:
            return "a link-local or cloud metadata address"
        if ip.is_unspecified or ip.is_multicast or ip in THIS_NETWORK:
            return "an unspecified or multicast address"
        # Loopback before "reserved": ::1 sits in a range Python calls reserved.
        if ip.is_loopback or (not ip.is_global and not ip.is_reserved):
            return None if self.allow_private else PRIVATE_REFUSED
        if ip.is_reserved:
            return "a reserved address"
        return None


def _unrequestable(why: str) -> ChatMoreError:
    return ChatMoreError("PROVIDER_URL_REFUSED", f"base_url {why}", field="base_url")


def request_url(base_url: str) -> httpx.URL:
    """The chat completions URL of ``base_url`` exactly as the provider client requests
    it. PROVIDER_URL_REFUSED unless httpx can request it and its host is a plain name, a
    dotted-quad IPv4 address or an IPv6 address: octal, hex or shortened IPv4 forms
    (``0251.0376.0251.0376``, ``0x7f.1``, ``2130706433``) read differently in different
    parsers, so none is taken."""
    try:
        url = httpx.URL(f"{base_url.strip().rstrip('/')}/chat/completions")
        host = url.raw_host.decode("ascii").lower()
        url.host  # noqa: B018 - decoding an IDNA host can fail too
    except (httpx.InvalidURL, ValueError) as exc:
        raise _unrequestable(f"cannot be requested: {exc}"[:200]) from None
    if url.scheme not in ALLOWED_SCHEMES or not host or url.userinfo:
        raise _unrequestable("must be an http(s) URL with a host and no credentials")
    if "%" in host:  # percent-escapes, or an IPv6 zone: nothing a provider needs
        raise _unrequestable("has a host that is not a plain host name")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.match(host):
            raise _unrequestable("has a host that is not a plain host name") from None
        if _NUMERIC_LABEL.match(host.rstrip(".").rsplit(".", 1)[-1]):
            raise _unrequestable(
                "has a host that reads as an IP address in an unusual form (octal, hex or "
                "shortened): write it as four decimal numbers, e.g. 10.0.0.1"
            ) from None
    return url


def validate_base_url(url: object) -> str:
    """Check a provider base URL as an admin saves it; return it without a trailing slash.

    Syntax and scheme only (plus literal addresses that are never allowed): the address a
    host name resolves to is checked on every call, at connect time, because it can
    change after saving. Raises VALIDATION_FAILED, or PROVIDER_URL_REFUSED for a literal
    link-local or metadata address and for a URL the client could not request.
    """
    if not isinstance(url, str) or not url.strip():
        raise validation(
            "base_url must be a URL such as https://api.openai.com/v1", field="base_url"
        )
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise validation("base_url is not a valid URL", field="base_url") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise validation("base_url must start with http:// or https://", field="base_url")
    if not parts.hostname:
        raise validation("base_url has no host", field="base_url")
    if parts.username is not None or parts.password is not None:
        raise validation(
            "base_url must not carry credentials; set the API key instead", field="base_url"
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise validation("base_url must not have a query or a fragment", field="base_url")
    if port == 0:
        raise validation("base_url has an invalid port", field="base_url")
    host = request_url(text).host
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        reason = AddressPolicy(allow_private=True).refusal(literal)
        if reason:
            raise ChatMoreError("PROVIDER_URL_REFUSED", f"base_url points to {reason}")
    return text.rstrip("/")


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves the host itself, refuses the call when
    any address it resolves to is refused by the policy, and connects to a checked
    address (TLS still verifies the host name, which httpcore passes separately)."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.move_on_after(timeout) as scope:
            addresses = await self._resolve(host, port)
        if scope.cancelled_caught:
            raise httpcore.ConnectTimeout(f"resolving {host} took too long")
        for address in addresses:
            reason = self.policy.refusal(address)
            if reason:
                raise AddressRefused(host, address, reason)
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    @staticmethod
    async def _resolve(host: str, port: int) -> list[str]:
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"the host name {host} does not resolve") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise httpcore.ConnectError(f"the host name {host} does not resolve")
        return addresses

    async def connect_unix_socket(self, *args: typing.Any, **kwargs: typing.Any):
        raise httpcore.ConnectError("ChatMore does not call providers over Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the guarded network backend under its connection pool.

    httpx offers no way to pass a network backend, so the pool it built is replaced by
    one with the same settings and the guard; the URL policy tests fail if a call ever
    goes around it."""

    def __init__(
        self, policy: AddressPolicy, limits: httpx.Limits, tls: ssl.SSLContext | None = None
    ) -> None:
        # Building a TLS context loads the CA bundle (~15 ms): share one where you can.
        tls = tls or httpx.create_ssl_context(trust_env=False)
        super().__init__(verify=tls, limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy),
        )
