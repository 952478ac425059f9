"""Which provider addresses may be called: the policy, the check when an admin saves a
base URL, and the connect-time guard on a real socket."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anyio
import pytest

from server_ext.errors import ChatMoreError
from server_ext.security.url_policy import (
    AddressPolicy,
    AddressRefused,
    GuardedNetworkBackend,
    validate_base_url,
)

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


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock.getsockname()[1]
    sock.close()


@pytest.mark.anyio
async def test_the_guard_checks_what_a_name_resolves_to(listener: int) -> None:
    guarded = GuardedNetworkBackend(AddressPolicy(allow_private=False))
    with pytest.raises(AddressRefused) as caught:
        await guarded.connect_tcp("localhost", listener, timeout=2)
    assert caught.value.host == "localhost"
    assert caught.value.address in {"127.0.0.1", "::1"}

    allowed = GuardedNetworkBackend(AddressPolicy(allow_private=True))
    with anyio.fail_after(5):
        stream = await allowed.connect_tcp("127.0.0.1", listener, timeout=2)
    assert stream.get_extra_info("server_addr")[0] == "127.0.0.1"
    await stream.aclose()
