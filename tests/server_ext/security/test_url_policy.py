"""Which provider addresses may be called: the policy, the check when an admin saves a
base URL, and the connect-time guard on a real socket."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from server_ext.errors import ChatMoreError
from server_ext.security.url_policy import (
    AddressPolicy,
    AddressRefused,
    GuardedConnector,
    request_url,
    upstream_url,
    validate_base_url,
)
from tests.support.providers import RawServer

ALWAYS = [
    "169.254.169.254",
    "169.254.0.1",
    "100.100.100.200",
    "fd00:ec2::254",
    "fe80::1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "0.0.0.0",
    "0.1.2.3",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
]
PRIVATE = [
    "127.0.0.1",
    "127.1.2.3",
    "::1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "fc00::1",
    "100.64.0.1",
    "::ffff:127.0.0.1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888"]


@pytest.mark.parametrize("address", ALWAYS)
def test_link_local_metadata_and_odd_addresses_are_always_refused(address: str) -> None:
    assert AddressPolicy(allow_private=True).refusal(address)
    assert AddressPolicy(allow_private=False).refusal(address)


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_follow_the_setting(address: str) -> None:
    assert AddressPolicy(allow_private=True).refusal(address) is None
    assert "private" in (AddressPolicy(allow_private=False).refusal(address) or "")


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert AddressPolicy(allow_private=False).refusal(address) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1", "https://api.openai.com/v1"),
        ("https://api.openai.com/v1/", "https://api.openai.com/v1"),
        ("  http://127.0.0.1:9000/v1 ", "http://127.0.0.1:9000/v1"),
        ("http://[::1]:8000/v1", "http://[::1]:8000/v1"),
        ("HTTPS://Example.com", "HTTPS://Example.com"),
    ],
)
def test_valid_base_urls_are_kept(url: str, expected: str) -> None:
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.com/v1", "http"),
        ("file:///etc/passwd", "http"),
        ("example.com/v1", "http"),
        ("https:///v1", "host"),
        ("https://user:pw@example.com/v1", "credentials"),
        ("https://example.com/v1?key=1", "query"),
        ("https://example.com/v1#x", "fragment"),
        ("https://example.com:99999/v1", "valid"),
        ("", "URL"),
        (42, "URL"),
    ],
)
def test_invalid_base_urls_are_refused_by_field(url: object, words: str) -> None:
    with pytest.raises(ChatMoreError) as caught:
        validate_base_url(url)
    assert caught.value.code == "VALIDATION_FAILED"
    assert caught.value.details == {"field": "base_url"}
    assert words in caught.value.message


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest", "http://[fd00:ec2::254]/v1", "http://0.0.0.0/v1"]
)
def test_literal_metadata_addresses_are_refused_when_saved(url: str) -> None:
    with pytest.raises(ChatMoreError) as caught:
        validate_base_url(url)
    assert caught.value.code == "PROVIDER_URL_REFUSED"


def test_a_host_name_is_not_resolved_when_saved() -> None:
    # Saving does no DNS: a name that resolves nowhere today is still a valid URL.
    assert (
        validate_base_url("https://no-such-host.invalid/v1") == "https://no-such-host.invalid/v1"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "HTTPS://Example.COM./v1/",
        "https://münchen.example/v1",
        "http://127.0.0.1:9000/v1",
        "http://[::1]:8000/v1",
        "http://[::ffff:169.254.169.254]/v1",
        "http://h.example/v1/a%20b/caf%C3%A9",
    ],
)
def test_the_client_requests_the_host_that_was_validated(url: str) -> None:
    checked = request_url(url)
    requested = upstream_url(url)
    assert requested.raw_host == checked.raw_host.decode("ascii")
    assert requested.port == (checked.port or {"http": 80, "https": 443}[checked.scheme])
    assert str(requested) == str(checked)


@pytest.mark.parametrize(
    "url", ["http://0x7f.0.0.1/v1", "http://127.1/v1", "http://[fe80::1%25x]/"]
)
def test_the_client_url_refuses_what_the_policy_refuses(url: str) -> None:
    with pytest.raises(ChatMoreError) as caught:
        upstream_url(url)
    assert caught.value.code == "PROVIDER_URL_REFUSED"


# -- the guard at connect time, on real sockets -------------------------------------------
# Every address below that a test expects refused is a loopback or "this host" one: a
# guard that failed would connect to this machine, never elsewhere.

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class CountingServer(RawServer):
    @property
    def connections(self) -> int:
        return len(self._open)


@pytest.fixture
def server() -> Iterator[CountingServer]:
    raw = CountingServer(OK)
    yield raw
    raw.close()


class FixedResolver(AbstractResolver):
    """A DNS that answers each name with the next list of ``answers`` (the last one
    again once they run out): a name that changes its answer between two lookups."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self.answers[min(self.lookups, len(self.answers) - 1)]
        self.lookups += 1
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        pass


@contextlib.asynccontextmanager
async def guarded(
    allow_private: bool, resolver: AbstractResolver | None = None
) -> AsyncIterator[aiohttp.ClientSession]:
    connector = GuardedConnector(
        AddressPolicy(allow_private=allow_private),
        resolve_timeout=5,
        resolver=resolver,
        force_close=True,  # a new connection, so a new check, for every request
    )
    async with aiohttp.ClientSession(connector=connector, trust_env=False) as session:
        yield session


async def fetch(session: aiohttp.ClientSession, url: str) -> bytes:
    """The body; only the test server (on 127.0.0.1 alone) could have answered it."""
    async with session.get(url, allow_redirects=False) as response:
        return await response.read()


@pytest.mark.anyio
async def test_the_guard_checks_what_a_name_resolves_to(server: CountingServer) -> None:
    async with guarded(allow_private=False) as session:
        with pytest.raises(AddressRefused) as caught:
            await fetch(session, f"http://localhost:{server.port}/")
    assert caught.value.host == "localhost"
    assert caught.value.address in {"127.0.0.1", "::1"}
    assert server.connections == 0

    async with guarded(allow_private=True) as session:
        assert await fetch(session, f"http://127.0.0.1:{server.port}/") == b"ok"
    assert server.connections == 1


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]"])
async def test_ip_literal_hosts_are_checked_too(server: CountingServer, host: str) -> None:
    """aiohttp does not resolve IP literals: the guard checks them all the same."""
    async with guarded(allow_private=False) as session:
        with pytest.raises(AddressRefused) as caught:
            await fetch(session, f"http://{host}:{server.port}/")
    assert "private" in caught.value.reason
    assert server.connections == 0


@pytest.mark.anyio
@pytest.mark.parametrize("host", ["0x7f.0.0.1", "0177.0.0.1", "127.1", "2130706433"])
async def test_odd_ipv4_forms_never_connect(server: CountingServer, host: str) -> None:
    """Forms that request_url refuses, sent to the connector anyway: aiohttp refuses the
    numeric ones, and whatever a resolver makes of the rest is checked."""
    async with guarded(allow_private=False) as session:
        with pytest.raises((AddressRefused, aiohttp.ClientError)):
            await fetch(session, f"http://{host}:{server.port}/")
    assert server.connections == 0


@pytest.mark.anyio
async def test_a_name_resolving_to_a_private_address_is_refused(server: CountingServer) -> None:
    resolver = FixedResolver(["127.0.0.2"])
    async with guarded(allow_private=False, resolver=resolver) as session:
        with pytest.raises(AddressRefused) as caught:
            await fetch(session, f"http://provider.example:{server.port}/")
    assert (caught.value.host, caught.value.address) == ("provider.example", "127.0.0.2")
    assert server.connections == 0


@pytest.mark.anyio
async def test_one_refused_address_among_several_refuses_the_host(server: CountingServer) -> None:
    resolver = FixedResolver(["127.0.0.1", "0.0.0.0"])
    async with guarded(allow_private=True, resolver=resolver) as session:
        with pytest.raises(AddressRefused) as caught:
            await fetch(session, f"http://provider.example:{server.port}/")
    assert caught.value.address == "0.0.0.0"
    assert server.connections == 0


@pytest.mark.anyio
async def test_a_name_that_rebinds_is_checked_on_every_connection(server: CountingServer) -> None:
    """DNS rebinding: an allowed answer first, then a refused one. Each new connection
    resolves again, and goes to an address that was checked."""
    resolver = FixedResolver(["127.0.0.1"], ["0.0.0.0"])
    async with guarded(allow_private=True, resolver=resolver) as session:
        url = f"http://provider.example:{server.port}/"
        assert await fetch(session, url) == b"ok"
        with pytest.raises(AddressRefused) as caught:
            await fetch(session, url)
    assert caught.value.address == "0.0.0.0"
    assert resolver.lookups == 2
    assert server.connections == 1
