"""Keys generated on first start: private, reused, and agreed on by processes that start
together on one data directory."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from server_ext.security.keys import Keyring
from server_ext.security.secret_box import KEYS_FILE, SecretBox


def _load_both(data_dir: str, queue) -> None:
    box = SecretBox.load(Path(data_dir))
    ring = Keyring.load(Path(data_dir))
    queue.put((box.active_kid, box.keys[box.active_kid], ring.signing_kid))


def test_generated_keys_are_private_and_reused(tmp_path: Path) -> None:
    box, ring = SecretBox.load(tmp_path), Keyring.load(tmp_path)
    for path in (tmp_path / KEYS_FILE, tmp_path / "jwt" / "signing.pem"):
        assert path.stat().st_mode & 0o777 == 0o600
    assert SecretBox.load(tmp_path) == box
    assert Keyring.load(tmp_path).signing_kid == ring.signing_kid
    assert not list(tmp_path.rglob("*.tmp"))


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    """Many processes race to generate the keys of an empty data directory; all of them
    end up with the same ones (else API keys encrypted by one would not decrypt in
    another)."""
    context = multiprocessing.get_context("spawn")
    for round_ in range(3):
        data_dir = tmp_path / f"round{round_}"
        queue = context.Queue()
        workers = [
            context.Process(target=_load_both, args=(str(data_dir), queue)) for _ in range(6)
        ]
        for worker in workers:
            worker.start()
        seen = {queue.get(timeout=60) for _ in workers}
        for worker in workers:
            worker.join(30)
        assert len(seen) == 1
        assert SecretBox.load(data_dir).active_kid == next(iter(seen))[0]
