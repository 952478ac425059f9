"""How long a failed login takes, per kind of account: an unknown email, a wrong password,
a locked account, and accounts whose hash has a lower or a higher cost than BCRYPT_COST.
They should take the same time (the same bcrypt work), so that timing tells none apart.

    .venv/bin/python bench/login_timing.py [--backend sqlite|mariadb] [--cost 10]
                                           [--rounds 40] [--smoke]

Each round sends one login of every kind, in turn; the figures are each kind's median
and the ratio of the slowest median to the fastest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

import bcrypt
import httpx
from harness import quiet_env, stack
from sqlalchemy import create_engine, update

from server_ext.services.auth import COST_CEILING_SECONDS
from server_ext.store.tables import users
from tests.support.api import PASSWORD, seed_user, unique_email


def set_row(url: str, email: str, **values) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(update(users).where(users.c.email == email).values(**values))
    engine.dispose()


def main() -> None:
    quiet_env()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "mariadb"])
    parser.add_argument("--cost", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--smoke", action="store_true", help="cost 5, 3 rounds")
    args = parser.parse_args()
    cost, rounds = (5, 3) if args.smoke else (args.cost, args.rounds)
    env = {"BCRYPT_COST": str(cost), "AUTH_LOCKOUT_THRESHOLD": "100000"}
    with stack(args.backend, env) as bench:
        server, url = bench.server, bench.server.env["CHATMORE_DB_URL"]
        known, locked, cheap, costly = (seed_user(server) for _ in range(4))
        set_row(url, locked, locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        for email, other in ((cheap, max(4, cost - 4)), (costly, cost + 1)):
            hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=other)).decode()
            set_row(url, email, password_hash=hashed)
        time.sleep(COST_CEILING_SECONDS)  # the server's view of the stored costs refreshes
        wrong = "wrong password!"
        kinds = {
            "unknown email": {"email": unique_email("ghost"), "password": PASSWORD},
            "wrong password": {"email": known, "password": wrong},
            "locked account": {"email": locked, "password": PASSWORD},
            f"hash at cost {max(4, cost - 4)}": {"email": cheap, "password": wrong},
            f"hash at cost {cost + 1}": {"email": costly, "password": wrong},
        }
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        with httpx.Client(base_url=server.api_url, timeout=60) as http:
            for body in kinds.values():
                http.post("auth/login", json=body)  # warm-up
            for _ in range(rounds):
                for kind, body in kinds.items():
                    start = time.perf_counter()
                    http.post("auth/login", json=body)
                    times[kind].append(time.perf_counter() - start)
    medians = {kind: statistics.median(values) * 1000 for kind, values in times.items()}
    print(f"backend {args.backend}, BCRYPT_COST {cost}, {rounds} rounds")
    for kind, value in medians.items():
        print(f"  {kind:<16} median {value:7.1f} ms")
    print(f"  slowest / fastest median: {max(medians.values()) / min(medians.values()):.3f}")


if __name__ == "__main__":
    main()
