"""Which provider addresses ChatMore may call (DESIGN §7 "Provider base URLs").

Two checks, at two moments:

- :func:`validate_base_url`, when an admin saves a model: the URL's syntax and scheme
  (http or https, a host, no credentials, no query or fragment), that the provider
  client can request it (:func:`upstream_url`, which the client also uses: the policy and
  the client agree on what a URL is), and literal addresses that are never allowed. It
  does not resolve the host: a name can point anywhere later.
- :class:`GuardedConnector`, on every new connection, at connect time: the host is
  resolved, every address it resolves to (or the IP literal itself) is checked against
  :class:`AddressPolicy`, and the connection goes to an address that was checked — so a
  name that changes its answer between a check and a connect (DNS rebinding) cannot
  slip through. :func:`upstream_url` hands the client the URL that was validated.

Link-local and cloud metadata addresses (and unspecified, multicast, reserved ones) are
always refused; loopback and private ones only when ``allow_private`` is off.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpx
import yarl
from aiohttp.abc import ResolveResult

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


DEFAULT_PORTS = {"http": 80, "https": 443}


def upstream_url(base_url: str) -> yarl.URL:
    """:func:`request_url` as the URL aiohttp requests (yarl's reading of it, taken
    verbatim), refused unless yarl reads the same scheme, host and port: the host the
    connector resolves and connects to is the host that was validated."""
    url = request_url(base_url)
    try:
        target = yarl.URL(str(url), encoded=True)
    except ValueError:
        raise _unrequestable("cannot be requested") from None
    same = (
        target.scheme == url.scheme
        and target.raw_host == url.raw_host.decode("ascii")
        and target.port == (url.port or DEFAULT_PORTS[url.scheme])
        and target.raw_user is None
    )
    if not same:
        raise _unrequestable("reads differently to the HTTP client; write it plainly")
    return target


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
    host = upstream_url(text).raw_host or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        reason = AddressPolicy(allow_private=True).refusal(literal)
        if reason:
            raise ChatMoreError("PROVIDER_URL_REFUSED", f"base_url points to {reason}")
    return text.rstrip("/")


class GuardedConnector(aiohttp.TCPConnector):
    """aiohttp's connector with the policy applied to every address it is about to
    connect to: the addresses a name resolves to (resolved afresh for each new
    connection, no DNS cache) and IP-literal hosts, which aiohttp does not pass to its
    resolver. A host with any refused address is refused before any connection attempt;
    the connection then goes to one of the addresses checked (TLS still verifies the
    host name)."""

    def __init__(self, policy: AddressPolicy, *, resolve_timeout: float, **kwargs: Any) -> None:
        super().__init__(use_dns_cache=False, **kwargs)
        self.policy = policy
        self.resolve_timeout = resolve_timeout

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Any] | None = None
    ) -> list[ResolveResult]:
        # The connect limit covers resolving, as it did the connection (aiohttp's own
        # socket-connect limit starts after it); a TimeoutError here is a connect timeout.
        async with asyncio.timeout(self.resolve_timeout):
            hosts = await super()._resolve_host(host, port, traces=traces)
        for info in hosts:
            reason = self.policy.refusal(info["host"])
            if reason:
                raise AddressRefused(host, info["host"], reason)
        return hosts
