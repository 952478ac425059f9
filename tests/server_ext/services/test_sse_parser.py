"""The SSE parser takes bytes as the network cuts them and gives back whole events."""

from __future__ import annotations

import json
import math

import pytest

from server_ext.services.sse_parser import MAX_LINE_BYTES, SSEFormatError, SSEParser, event_json

STREAM = (
    b": a comment\r\n\r\n"
    b"\n"
    b'data: {"a": 1}\n\n'
    b'data:{"b": 2}\r\n\r\n'
    b"event: error\n"
    b'data: {"error": {}}\n\n'
    b"id: 7\nretry: 100\n"
    b'data: {"c":\n'
    b"data: 3}\n\n"
    b"data: [DONE]\n\n"
)
EVENTS = [
    (b"", b'{"a": 1}'),
    (b"", b'{"b": 2}'),
    (b"error", b'{"error": {}}'),
    (b"", b'{"c":\n3}'),
    (b"", b"[DONE]"),
]


def test_whole_stream_in_one_read() -> None:
    parser = SSEParser()
    assert parser.feed(STREAM) + parser.close() == EVENTS


@pytest.mark.parametrize("size", [1, 2, 3, 7, 13])
def test_any_cut_gives_the_same_events(size: int) -> None:
    parser = SSEParser()
    events = []
    for start in range(0, len(STREAM), size):
        events += parser.feed(STREAM[start : start + size])
    assert events + parser.close() == EVENTS


def test_a_last_event_without_its_blank_line_is_kept_at_the_end() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"a": 1}\n\ndata: [DONE]') == [(b"", b'{"a": 1}')]
    assert parser.close() == [(b"", b"[DONE]")]


def test_an_endless_line_is_refused() -> None:
    parser = SSEParser()
    with pytest.raises(SSEFormatError):
        parser.feed(b"data: " + b"x" * (MAX_LINE_BYTES + 1))


@pytest.mark.parametrize(
    "data",
    [
        b'{"choices":[{"index":0,"delta":{"content":"caf\xc3\xa9 \\u00e9"}}]}',
        b'{"a":1,"a":2,"big":18446744073709551615,"f":1.0000000000000002}',
        b'{"text":"\\ud800 alone"}',  # a lone surrogate: orjson refuses, json takes it
    ],
)
def test_event_json_reads_what_the_standard_library_reads(data: bytes) -> None:
    assert event_json(data) == json.loads(data.decode())


def test_event_json_reads_nan_as_before() -> None:
    assert math.isnan(event_json(b'{"x":NaN}')["x"])


@pytest.mark.parametrize("data", [b'{"a":', b"\xff{}", b"", b"{'a':1}"])
def test_event_json_refuses_what_is_not_json(data: bytes) -> None:
    with pytest.raises(ValueError):
        event_json(data)
