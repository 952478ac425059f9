"""The demo provider as the tests meet it: a process of its own, started as a user starts
it, with helpers to read what it received and to parse its streams."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port, wait_until


@dataclass
class DemoProvider:
    """``python -m server_ext.demo_provider --port N [--record]``. ``url`` ends in /v1."""

    workdir: Path
    record: bool = True
    port: int = field(default_factory=free_port)
    command: list[str] = field(
        default_factory=lambda: [sys.executable, "-m", "server_ext.demo_provider"]
    )
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    @property
    def log_path(self) -> Path:
        return self.workdir / "demo-provider.log"

    def start(self) -> DemoProvider:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = [*self.command, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.record:
            args.append("--record")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env={**os.environ, **self.env, "PYTHONUNBUFFERED": "1"},
            )

        def listening() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"the demo provider exited:\n{self.log()}")
            return f"listening on {self.url}" in self.log()

        wait_until(listening, 30, "the demo provider")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    # -- recorded requests -------------------------------------------------------------

    def requests(self, model: str | None = None) -> list[dict[str, Any]]:
        """What the provider received (oldest first), optionally only for one model name."""
        answer = httpx.get(f"{self.root}/_demo/requests", timeout=10)
        answer.raise_for_status()
        entries = answer.json()["requests"]
        if model is None:
            return entries
        return [
            e for e in entries if isinstance(e["body"], dict) and e["body"].get("model") == model
        ]

    def clear(self) -> None:
        httpx.delete(f"{self.root}/_demo/requests", timeout=10).raise_for_status()


def chat_body(model: str, prompt: str = "How do I join two tables in SQL?", **extra: Any):
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def parse_sse(raw: bytes) -> list[Any]:
    """Frames of an OpenAI stream, strictly: each ``data: …`` then a blank line. JSON
    frames come back parsed, ``[DONE]`` as the string, anything else raises."""
    text = raw.decode("utf-8")
    assert text.endswith("\n\n"), "a stream ends with a blank line"
    frames = []
    for frame in text[:-2].split("\n\n"):
        assert frame.startswith("data: "), frame
        assert "\n" not in frame, frame
        payload = frame[len("data: ") :]
        frames.append(payload if payload == "[DONE]" else json.loads(payload))
    return frames


def stream_frames(url: str, body: dict[str, Any], headers: dict[str, str] | None = None):
    """POST a streaming request; return (response, raw body bytes)."""
    with httpx.stream(
        "POST",
        f"{url}/chat/completions",
        json={**body, "stream": True},
        headers=headers,
        timeout=30,
    ) as response:
        raw = response.read()
    return response, raw


def content_of(frames: list[Any]) -> str:
    return "".join(
        f["choices"][0]["delta"].get("content") or ""
        for f in frames
        if isinstance(f, dict) and f.get("choices")
    )


class RawServer:
    """A TCP server on 127.0.0.1 that answers each connection with fixed bytes, then
    closes it; with ``response=None`` it accepts and never says a word (a provider that
    hangs, or a TLS handshake that never completes)."""

    def __init__(self, response: bytes | None, tls: ssl.SSLContext | None = None) -> None:
        self.response = response
        self.tls = tls  # answer over TLS with this server context
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self._open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._open.append(conn)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        if self.response is None:
            return  # held open until close()
        with contextlib.suppress(OSError):  # ssl.SSLError too: a client that refused us
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                piece = conn.recv(65536)
                if not piece:
                    return
                data += piece
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)content-length:\s*(\d+)", head)
            while length and len(body) < int(length.group(1)):
                body += conn.recv(65536)
            conn.sendall(self.response)
            conn.shutdown(socket.SHUT_RDWR)
        conn.close()

    def close(self) -> None:
        self._listener.close()
        for conn in self._open:
            with contextlib.suppress(OSError):
                conn.close()


def self_signed_tls(workdir: Path, host: str = "127.0.0.1") -> ssl.SSLContext:
    """A server TLS context whose certificate names ``host`` but is signed by nobody a
    client trusts."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    workdir.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = workdir / "cert.pem", workdir / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context
