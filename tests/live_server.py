"""Real HTTP servers for tests on a free loopback port: ``duban serve`` as a subprocess, or the
same app on uvicorn in a background thread of the test process (much cheaper to start)."""

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
def serve(
    env: dict[str, str], log_path: Path, args: tuple[str, ...] = (), verify: object = True
) -> Iterator[str]:
    """Start ``duban serve`` with ``env`` (config dir, database, DUBAN_NOW…) and extra ``args``
    (``--ssl-certfile``… : the URL is then https, checked with ``verify``); yield its URL."""
    port = free_port()
    full_env = {**os.environ, **env}
    full_env.pop("DUBAN_TOKEN", None)  # the server never acts with a token of its own
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "serve", "--port", str(port), *args],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"{'https' if '--ssl-certfile' in args else 'http'}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # polling a port the child opens: the one wait on the wall clock here
            if proc.poll() is not None:
                raise RuntimeError(f"duban serve exited: {log_path.read_text(errors='replace')}")
            try:
                health = httpx.get(f"{url}/api/v1/health", timeout=1, verify=verify)
                if health.status_code == 200:
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


class ThreadServer:
    """The server app on uvicorn in a thread, reading its settings from ``env``.

    While a CLI command runs under ``CliRunner`` the process environment holds that command's
    ``DUBAN_*`` values (its ``DUBAN_NOW`` too), and the server reads them as its own
    environment: the clock follows the test as a separately started server's would. A client
    never sets the server's clock.
    """

    def __init__(self, env: dict[str, str], **server_settings) -> None:
        import threading

        import uvicorn

        from workflow.config import load_config
        from workflow.web.app import create_app

        def current() -> dict[str, str]:
            live = {k: v for k, v in os.environ.items() if k.startswith("DUBAN_")}
            return {**env, **live}

        self.app = create_app(load_config(env), env=current)
        for key, value in server_settings.items():
            setattr(self.app.state.duban.throttle, key, value)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                access_log=False,
                proxy_headers=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:  # the thread binds the port within milliseconds
            if not self.thread.is_alive():
                raise RuntimeError("the in-thread server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.duban.db.engine.dispose()
