"""How far the record is behind what a client sees while a turn streams, and what a crash
loses: several windows stream a long reply; what an SSE client has received is compared
with what ``GET api/turns/{id}`` shows (the checkpoints) every 0.2 s; then the server is
killed (SIGKILL) and, once restarted, each stored reply is compared with what the client
had received by the kill.

    .venv/bin/python bench/checkpoint_lag.py [--backend sqlite|mariadb] [--windows 3]
                                             [--seconds 10] [--tps 40]
    .venv/bin/python bench/checkpoint_lag.py --smoke      # seconds: 2 windows, 2 s

The lag of a sample is how long before it the client received the first character that is
not stored yet (0 when all of it is); the stored text must always be a prefix of the
received one. At the kill, "lost" is the same measure taken at the moment of the kill.
"""

from __future__ import annotations

import argparse
import bisect
import secrets
import threading
import time

import httpx
from harness import Stack, percentile, stack

from tests.support.sse import SseEvent, open_stream, parse_lines


class Follower(threading.Thread):
    """Reads the turn's stream, noting when each window's text grew to what length."""

    def __init__(self, s: Stack, turn_id: int) -> None:
        super().__init__(daemon=True)
        api = s.server.api_url
        answer = httpx.post(f"{api}streams/ticket", headers=s.auth, json={"turn_id": turn_id})
        answer.raise_for_status()
        self.api, self.turn_id, self.st = api, turn_id, answer.json()["stream_token"]
        self.text: dict[int, str] = {}
        self.grew: dict[int, list[tuple[int, float]]] = {}  # (length, arrival) per window
        self.lock = threading.Lock()

    def run(self) -> None:
        try:
            with open_stream(self.api, self.turn_id, self.st, timeout=120) as stream:
                for item in parse_lines(stream.iter_lines()):
                    if not isinstance(item, SseEvent) or item.name != "chunk":
                        continue
                    window, delta = item.data["window_id"], item.data["delta_text"]
                    with self.lock:
                        self.text[window] = self.text.get(window, "") + delta
                        self.grew.setdefault(window, []).append(
                            (len(self.text[window]), time.monotonic())
                        )
        except httpx.HTTPError:
            pass  # the server was killed

    def lag(self, window: int, stored: str, at: float) -> float | None:
        """Seconds since the first character not in ``stored`` arrived; None when
        ``stored`` is not a prefix of what arrived."""
        with self.lock:
            text, grew = self.text.get(window, ""), list(self.grew.get(window, []))
        if not text.startswith(stored):
            return None
        lengths = [length for length, _ in grew]
        i = bisect.bisect_right(lengths, len(stored))  # the first read that brought more
        if i == len(grew):
            return 0.0
        return max(0.0, at - grew[i][1])


def measure(backend: str, windows: int, seconds: float, tps: int) -> None:
    tokens = int(tps * (seconds + 20))  # still streaming when the server is killed
    with stack(backend) as s:
        upstream = f"lag-{secrets.token_hex(3)};ttft_ms=0;tps={tps};tokens={tokens}"
        conversation = s.conversation([s.model(upstream) for _ in range(windows)])
        api = s.server.api_url
        turn_id = s.send(conversation["id"], "Explain query planning")
        follower = Follower(s, turn_id)
        follower.start()
        lags: list[float] = []
        broken = samples = 0
        end = time.monotonic() + seconds
        with httpx.Client(headers=s.auth, timeout=30) as http:
            while time.monotonic() < end:
                turn = http.get(f"{api}api/turns/{turn_id}").json()
                at = time.monotonic()  # the answer's end: the lag is not understated
                for result in turn["results"]:
                    if result["status"] != "streaming":
                        continue
                    samples += 1
                    lag = follower.lag(result["window_id"], result["reply"] or "", at)
                    if lag is None:
                        broken += 1
                    else:
                        lags.append(lag)
                time.sleep(0.2)
            killed_at = time.monotonic()
            s.server.kill()
            follower.join(30)
            s.server.start()
            after = http.get(f"{api}api/turns/{turn_id}").json()
        lost = [
            follower.lag(r["window_id"], r["reply"] or "", killed_at) for r in after["results"]
        ]
        interrupted = sum(r["error_code"] == "INTERRUPTED" for r in after["results"])
        print(f"checkpoint lag, {backend}, {windows} windows at {tps} tokens/s, {seconds:g} s")
        if lags:
            print(
                f"  while streaming ({samples} samples): p50 {percentile(lags, 0.5):.2f} s, "
                f"p95 {percentile(lags, 0.95):.2f} s, max {max(lags):.2f} s; "
                f"stored text not a prefix of the received: {broken}"
            )
        shown = " / ".join("not a prefix" if x is None else f"{x:.2f} s" for x in lost)
        print(f"  at SIGKILL: {interrupted}/{windows} INTERRUPTED; lost per window: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "mariadb"), default="sqlite")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tps", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="2 windows for 2 s")
    args = parser.parse_args()
    if args.smoke:
        args.windows, args.seconds = 2, 2
    measure(args.backend, args.windows, args.seconds, args.tps)


if __name__ == "__main__":
    main()
