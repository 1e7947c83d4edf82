"""Issue 27, against a real ``duban serve`` on a loopback port: no anonymous disk fill, guessing
throttled across server processes, forwarded addresses believed only from listed proxies."""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from live_server import serve

GIB = 1024**3
MB = 1024 * 1024


def _settings(env: dict[str, str], text: str) -> None:
    config = Path(env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def _read_answer(sock: socket.socket) -> bytes:
    """The answer's head and body until the server closes (it does, after a refused body)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _declared_only(url: str, path: str, length: int, headers: str = "") -> bytes:
    """A POST that declares ``length`` bytes but sends none of them: what the server answers
    without reading the body."""
    with _connect(url) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
            f"Content-Type: multipart/form-data; boundary=x\r\n{headers}\r\n".encode()
        )
        return _read_answer(sock)


def _streamed(url: str, path: str, most: int, headers: str = "") -> tuple[bytes, int]:
    """A chunked POST (no Content-Length) that keeps sending until the server answers or
    ``most`` bytes are out; the answer and the bytes sent."""
    chunk = b"x" * 65536
    sent = 0
    with _connect(url) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\n{headers}\r\n".encode()
        )
        try:
            while sent < most:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: its answer is waiting
        return _read_answer(sock), sent


def _signed_in(url: str, token: str) -> tuple[httpx.Client, str]:
    """A browser session of ``token`` and the CSRF token of its forms."""
    client = httpx.Client(base_url=url, timeout=60)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"token": token, "csrf_token": csrf})
    assert r.status_code == 303 and "duban_session" in client.cookies
    form = client.get("/office/import")
    return client, re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)


@pytest.fixture
def limited(cli_env, tmp_path):
    """``duban serve`` with uploads limited to 2 MB."""
    _settings(cli_env, "[server]\nmax_upload_mb = 2\n")
    with serve(cli_env, tmp_path / "serve.log") as url:
        yield url


@pytest.mark.parametrize(
    "path",
    ["/login", "/office/import", "/assignments/1/report", "/api/v1/imports", "/api/v1/tasks"],
)
def test_a_declared_gigabyte_is_refused_before_a_byte_is_read(limited, path):
    answer = _declared_only(limited, path, GIB)
    assert _status(answer) == 413
    assert "过大".encode() in answer


def test_no_session_no_body(limited):
    """Within the upload limit, an anonymous upload is turned away without its body being read:
    the server answers although the client sent nothing after the headers."""
    page = _declared_only(limited, "/office/import", int(1.5 * MB))
    assert _status(page) == 303 and b"location: /login" in page.lower()
    report = _declared_only(limited, "/assignments/1/report", MB // 2)
    assert _status(report) == 303
    api = _declared_only(
        limited, "/api/v1/imports", int(1.5 * MB), headers="Authorization: Bearer dbn_wrong\r\n"
    )
    assert _status(api) == 401 and "令牌无效".encode() in api


def test_a_unit_session_cannot_send_the_office_a_file(limited, cli_env):
    """Signed in, but not as the office: the import's body is refused (403) unread."""
    office = {"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"}
    assert httpx.post(f"{limited}/api/v1/units", json={"name": "法规科"}, headers=office).is_success
    issued = httpx.post(f"{limited}/api/v1/tokens", json={"holder": "法规科"}, headers=office)
    client, _ = _signed_in(limited, issued.json()["result"]["token"])
    cookie = f"Cookie: duban_session={client.cookies['duban_session']}\r\n"
    client.close()
    answer = _declared_only(limited, "/office/import", int(1.5 * MB), headers=cookie)
    assert _status(answer) == 403 and "导入台账".encode() in answer


@pytest.mark.parametrize("path", ["/login", "/api/v1/tasks"])
def test_a_streamed_body_is_cut_off_at_the_limit(limited, cli_env, path):
    """No Content-Length: the server stops at 1 MB (plus at most what it drops to answer), not
    after the gigabyte — even with the office's own token."""
    signed = f"Authorization: Bearer {cli_env['DUBAN_TOKEN']}\r\n"
    answer, sent = _streamed(limited, path, GIB, signed if path.startswith("/api") else "")
    assert _status(answer) == 413 and "请求内容过大（上限 1 MB）".encode() in answer
    assert sent < 16 * MB


def test_an_office_upload_is_streamed_to_the_configured_limit(limited, cli_env):
    token = cli_env["DUBAN_TOKEN"]
    answer, sent = _streamed(limited, "/api/v1/imports", GIB, f"Authorization: Bearer {token}\r\n")
    assert _status(answer) == 413 and "上限 2 MB".encode() in answer
    assert sent < 32 * MB


def test_the_pages_import_follows_max_upload_mb(limited, cli_env):
    client, csrf = _signed_in(limited, cli_env["DUBAN_TOKEN"])
    try:
        over = client.post(
            "/office/import",
            data={"csrf_token": csrf},
            files={"ledger": ("台账.csv", b"x" * (3 * MB))},
        )
        assert over.status_code == 413 and "上传文件过大（上限 2 MB" in over.text
        under = client.post(  # over the old fixed 1 MB of a form, within the office's 2 MB
            "/office/import",
            data={"csrf_token": csrf},
            files={"ledger": ("台账.csv", "序号,工作任务\n".encode() + b"x" * (int(1.5 * MB)))},
        )
        assert under.status_code != 413 and "台账" in under.text
    finally:
        client.close()
    assert httpx.get(f"{limited}/api/v1/health").status_code == 200


# -- guessing --------------------------------------------------------------------------------------
def _guess(url: str, token: str, forwarded: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    return httpx.get(f"{url}/api/v1/assignments", headers=headers, timeout=120).status_code


def test_parallel_guesses_on_two_servers_get_no_more_than_the_limit(cli_env, tmp_path):
    """Two ``duban serve`` processes on one database, 100 guesses at once: 20 are checked (401),
    the rest refused (429), and then even the right token is refused on both."""
    _settings(cli_env, "[server]\nfailed_tokens_block_after = 20\nfailed_token_delay = 0\n")
    with (
        serve(cli_env, tmp_path / "a.log") as a,
        serve(cli_env, tmp_path / "b.log") as b,
        ThreadPoolExecutor(max_workers=100) as pool,
    ):
        statuses = list(pool.map(lambda i: _guess((a, b)[i % 2], f"dbn_guess{i:03d}"), range(100)))
        assert statuses.count(401) == 20 and statuses.count(429) == 80
        assert _guess(a, cli_env["DUBAN_TOKEN"]) == 429
        assert _guess(b, cli_env["DUBAN_TOKEN"]) == 429
    assert "dbn_guess" not in (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()


def test_a_forged_forwarded_address_is_not_believed_by_default(cli_env, tmp_path):
    _settings(cli_env, "[server]\nfailed_tokens_block_after = 5\nfailed_token_delay = 0\n")
    with serve(cli_env, tmp_path / "serve.log") as url:
        statuses = [_guess(url, "dbn_wrong", forwarded=f"10.0.0.{i}") for i in range(8)]
        assert statuses == [401] * 5 + [429] * 3  # one address: the connection's
        assert _guess(url, cli_env["DUBAN_TOKEN"], forwarded="10.9.9.9") == 429


def test_a_listed_proxy_is_believed(cli_env, tmp_path):
    _settings(
        cli_env,
        "[server]\nfailed_tokens_block_after = 3\nfailed_token_delay = 0\n"
        'trusted_proxies = ["127.0.0.1"]\n',
    )
    with serve(cli_env, tmp_path / "serve.log") as url:
        assert [_guess(url, "dbn_wrong", forwarded="10.0.0.1") for _ in range(4)] == [401] * 3 + [
            429
        ]
        assert _guess(url, cli_env["DUBAN_TOKEN"], forwarded="10.0.0.2") == 200
        assert _guess(url, cli_env["DUBAN_TOKEN"], forwarded="10.0.0.1") == 429


# -- sessions end ----------------------------------------------------------------------------------
def test_hsts_is_sent_when_duban_serve_speaks_tls(cli_env, tmp_path):
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    trust = ssl.create_default_context(cafile=str(cert))
    args = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with serve(cli_env, tmp_path / "tls.log", args, verify=trust) as url:
        assert url.startswith("https://")
        for path in ("/login", "/api/v1/health"):
            r = httpx.get(f"{url}{path}", verify=trust)
            assert r.headers["strict-transport-security"] == "max-age=31536000"
    with serve(cli_env, tmp_path / "plain.log") as url:
        assert "strict-transport-security" not in httpx.get(f"{url}/login").headers


def test_a_session_ends_after_its_lifetime_across_server_restarts(cli_env, tmp_path):
    """Signed in on Monday; a server (re)started with a clock 8 days later sends the same
    cookie back to the sign-in page, however recently it was used."""
    _settings(cli_env, "[server]\nsession_idle_minutes = 10080\n")
    with serve(cli_env, tmp_path / "a.log") as url:
        client, _ = _signed_in(url, cli_env["DUBAN_TOKEN"])
        sid = client.cookies["duban_session"]
        client.close()
    later = {**cli_env, "DUBAN_NOW": "2026-03-08T09:00"}  # 6 days on: still signed in
    with serve(later, tmp_path / "b.log") as url:
        page = httpx.get(f"{url}/office/verify", cookies={"duban_session": sid})
        assert page.status_code == 200
    later = {**cli_env, "DUBAN_NOW": "2026-03-10T09:00"}  # 8 days after the sign-in
    with serve(later, tmp_path / "c.log") as url:
        page = httpx.get(f"{url}/office/verify", cookies={"duban_session": sid})
        assert page.status_code == 303 and page.headers["location"].endswith("why=expired")


# -- the directory ---------------------------------------------------------------------------------
def test_a_unit_token_reads_names_and_groups_not_contacts(limited, cli_env):
    office = {"Authorization": f"Bearer {cli_env['DUBAN_TOKEN']}"}
    for name, email in (("法规科", "fg@x.gov.cn"), ("财务科", "cw@x.gov.cn")):
        unit = {"name": name, "emails": [email], "groups": ["机关科室"]}
        assert httpx.post(f"{limited}/api/v1/units", json=unit, headers=office).is_success
    issued = httpx.post(f"{limited}/api/v1/tokens", json={"holder": "法规科"}, headers=office)
    unit = {"Authorization": f"Bearer {issued.json()['result']['token']}"}
    listed = httpx.get(f"{limited}/api/v1/units", headers=unit).json()["result"]
    seen = {u["name"]: u for u in listed}
    assert seen["财务科"]["groups"] == ["机关科室"] and seen["财务科"]["emails"] == []
    assert seen["法规科"]["emails"] == ["fg@x.gov.cn"]
    shown = httpx.get(f"{limited}/api/v1/units/财务科", headers=unit).json()["result"]
    assert shown["emails"] == [] and "cw@x.gov.cn" not in str(listed)
    everything = httpx.get(f"{limited}/api/v1/units", headers=office).json()["result"]
    assert "cw@x.gov.cn" in str(everything)
