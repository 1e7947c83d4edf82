"""A real ``duban serve`` on a free loopback port, as a subprocess, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Start ``duban serve`` with ``env`` (config dir, database, DUBAN_NOW…); yield its URL."""
    port = free_port()
    full_env = {**os.environ, **env}
    full_env.pop("DUBAN_TOKEN", None)  # the server never acts with a token of its own
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # polling a port the child opens: the one wait on the wall clock here
            if proc.poll() is not None:
                raise RuntimeError(f"duban serve exited: {log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("duban serve did not start within 30 s")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
