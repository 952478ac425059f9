"""The one-timer watchdog behind the provider clients' deadlines, on a real event loop:
which cancellation becomes a timeout (its own, and only its own), that reads do not
make timers, and that a consumer busy between two reads is never interrupted.

The clients' limits end to end (first token, idle, total, connect) are tested against
the demo provider in test_provider_client.py and gateway/test_passthrough.py."""

from __future__ import annotations

import asyncio
import math

import pytest

from server_ext.services.upstream_http import DeadlinePassed, ReadWatchdog

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def watchdog(span: float, *, limit: str = "first-token", total_in: float = math.inf):
    loop = asyncio.get_running_loop()
    now = loop.time()
    return ReadWatchdog(loop, since=now, span=span, limit=limit, total_at=now + total_in)


async def test_a_read_that_never_ends_passes_the_deadline() -> None:
    dog = watchdog(0.05)
    never = asyncio.get_running_loop().create_future()
    with pytest.raises(DeadlinePassed) as caught:
        await dog.wait(never)
    assert caught.value.limit == "first-token"
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0, "its cancellation was taken back"
    await asyncio.sleep(0)  # and none is left pending for the code that goes on
    dog.close()


async def test_the_total_limit_caps_every_span() -> None:
    dog = watchdog(30, limit="idle", total_in=0.05)
    assert dog.deadline()[1] == "total"
    with pytest.raises(DeadlinePassed) as caught:
        await dog.wait(asyncio.get_running_loop().create_future())
    assert caught.value.limit == "total"


async def test_reads_move_the_deadline_without_a_timer_each() -> None:
    """The stream readers' protocol: each read stores the time, nothing else; the one
    timer armed before the first read is the one still armed after many."""
    loop = asyncio.get_running_loop()
    dog = watchdog(30, limit="idle")
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(200):
        queue.put_nowait(i)
    dog.arm()
    timer = dog._handle
    for _ in range(200):
        dog.since = loop.time()
        dog.reading = True
        try:
            await queue.get()
        finally:
            dog.reading = False
    assert dog._handle is timer and dog.armed
    dog.close()


async def test_a_cancel_from_outside_is_not_a_timeout() -> None:
    reading = asyncio.Event()

    async def read() -> None:
        dog = watchdog(30)
        reading.set()
        await dog.wait(asyncio.get_running_loop().create_future())

    task = asyncio.create_task(read())
    await reading.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_cancel_from_outside_at_the_moment_the_timer_fires_still_cancels() -> None:
    """Both cancellations land before the reader runs again: the reader takes back its
    own and lets the other one through (never swallowed as a timeout)."""
    loop = asyncio.get_running_loop()
    reading = asyncio.Event()
    dogs: list[ReadWatchdog] = []

    async def read() -> None:
        dog = watchdog(0.05)
        dogs.append(dog)
        reading.set()
        await dog.wait(loop.create_future())

    task = asyncio.create_task(read())
    await reading.wait()
    # Due at the watchdog's own deadline: both callbacks run in the same loop pass.
    loop.call_at(dogs[0].deadline()[0], task.cancel)
    with pytest.raises(asyncio.CancelledError):
        await task
    assert task.cancelled()


async def test_a_consumer_busy_past_the_deadline_is_not_interrupted() -> None:
    """Between two reads the task is the consumer's: the timer does not cancel it. The
    next read sees the lapse: a first-token limit has passed; an idle one counts from
    when the consumer asks for more."""
    loop = asyncio.get_running_loop()
    dog = watchdog(0.05)
    dog.arm()
    await asyncio.sleep(0.2)  # not reading: no CancelledError may land here
    assert not dog.armed
    with pytest.raises(DeadlinePassed) as caught:
        dog.arm()
    assert caught.value.limit == "first-token"

    idle = watchdog(0.05, limit="idle")
    idle.arm()
    await asyncio.sleep(0.2)
    idle.since = loop.time()  # the reader's next read starts now
    idle.arm()
    assert idle.armed
    idle.close()


async def test_an_awaitable_never_started_is_closed_when_the_deadline_has_passed() -> None:
    dog = watchdog(0.01)
    await asyncio.sleep(0.05)

    async def read() -> bytes:
        return b""

    coroutine = read()
    with pytest.raises(DeadlinePassed):
        await dog.wait(coroutine)
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning
