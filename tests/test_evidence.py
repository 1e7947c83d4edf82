"""Evidence that still opens (issue 31): the URL safety rule, the page inspection, and the
checks against a real HTTP server on 127.0.0.1 (allowed through ``[evidence] allow_hosts``)."""

from __future__ import annotations

import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scoring_world import at, new_assignment, new_plan, play

from workflow.config import Config
from workflow.daemon.runner import Daemon
from workflow.tasks.evidence import flagged_links, links_of, run_due_checks
from workflow.tasks.evidence_fetch import (
    EvidenceSettings,
    check_link,
    inspect_page,
    pinned_request,
    url_refusal,
)

PUBLIC = {"www.gov.cn": ["203.119.25.1"], "evil.example": ["93.184.216.34", "10.1.2.3"]}


def fake_resolve(host: str) -> list[str]:
    if host not in PUBLIC:
        raise OSError("unknown host")
    return PUBLIC[host]


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("https://www.gov.cn/zhengce/1.html", None),
        ("http://www.gov.cn:80/a", None),
        ("https://www.gov.cn:443/a", None),
        ("http://www.gov.cn:8080/a", "端口 8080"),
        ("ftp://www.gov.cn/a", "只检查 http/https"),
        ("file:///etc/passwd", "只检查 http/https"),
        ("javascript:alert(1)", "只检查 http/https"),
        ("http://10.0.0.1/", "内网"),
        ("http://192.168.1.10/", "内网"),
        ("http://172.16.0.5/", "内网"),
        ("http://127.0.0.1/", "内网"),
        ("http://127.8.9.10/", "内网"),
        ("http://[::1]/", "内网"),
        ("http://[::ffff:127.0.0.1]/", "内网"),
        ("http://[fe80::1]/", "内网"),
        ("http://169.254.169.254/latest/meta-data", "内网"),
        ("http://0.0.0.0/", "内网"),
        ("http://100.64.0.1/", "内网"),
        ("http://www.gov.cn@127.0.0.1/", "用户名或密码"),
        ("http://user:pw@www.gov.cn/", "用户名或密码"),
        ("http://evil.example/", "内网"),  # one of its addresses is private
        ("http://no-such-host.example/", "无法解析"),
        ("http:///path-only", "缺少主机名"),
        ("http://www.gov.cn:99999/", "格式不正确"),
    ],
)
def test_which_urls_may_be_fetched(url, refused):
    reason = url_refusal(url, EvidenceSettings(), fake_resolve)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason


@given(address=st.ip_addresses())
def test_a_host_with_any_non_public_address_is_refused(address):
    settings = EvidenceSettings()
    reason = url_refusal(
        "http://site.example/", settings, lambda _h: ["203.119.25.1", str(address)]
    )
    mapped = getattr(address, "ipv4_mapped", None) or address
    if not mapped.is_global or mapped.is_multicast or mapped.is_reserved:
        assert reason is not None and "内网" in reason
    else:
        assert reason is None


def test_an_allowed_intranet_host_and_port():
    settings = EvidenceSettings(allow_hosts=frozenset({"127.0.0.1"}), allow_ports=frozenset({8000}))
    assert url_refusal("http://127.0.0.1:8000/a", settings, fake_resolve) is None
    assert "端口" in url_refusal("http://127.0.0.1:9000/a", settings, fake_resolve)
    assert "内网" in url_refusal("http://10.0.0.1:8000/a", settings, fake_resolve)


@pytest.mark.parametrize(
    ("body", "encoding", "title", "pub"),
    [
        (
            "<html><head><title>关于 &amp; 公开</title></head><body>发布时间：2026-03-02</body>",
            "utf-8",
            "关于 & 公开",
            "2026-03-02",
        ),
        (
            '<meta charset="gbk"><title>政策解读</title><span>发布日期:</span>2025年12月9日',
            "gbk",
            "政策解读",
            "2025-12-09",
        ),
        (
            '<meta name="PubDate" content="2026-01-05 10:00"><title>x</title>',
            "utf-8",
            "x",
            "2026-01-05",
        ),
        ("<p>没有标题，也没有日期</p>", "utf-8", None, None),
    ],
)
def test_title_and_publication_date(body, encoding, title, pub):
    assert inspect_page(body.encode(encoding)) == (title, pub)


def test_links_of_skips_document_numbers():
    assert links_of(
        ["粤府办〔2026〕3号", " https://a.gov.cn/1 ", "http://b/2", "https://a.gov.cn/1"]
    ) == [
        "https://a.gov.cn/1",
        "http://b/2",
    ]


# -- a real server -----------------------------------------------------------------------------


class Site:
    def __init__(self) -> None:
        self.changing = "第一版"
        self.release = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/ok":
                    page = "<title>政务公开专栏</title><div>发布时间：2026-03-02</div>"
                    self._send(200, page.encode("gbk"), "text/html; charset=gbk")
                elif self.path == "/changing":
                    self._send(200, f"<title>通知</title>{site.changing}".encode(), "text/html")
                elif self.path == "/moved":
                    self._redirect("/ok")
                elif self.path == "/to-private":
                    self._redirect("http://10.0.0.1/secret")
                elif self.path == "/big":
                    self._send(200, b"x" * 5000, "text/plain")
                elif self.path == "/slow":
                    site.release.wait(5)
                    self._send(200, b"late", "text/plain")
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _redirect(self, where: str) -> None:
                self.send_response(302)
                self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    s = Site()
    yield s
    s.stop()


def config_for(site: Site, tmp_path: Path, **extra) -> Config:
    evidence = {
        "allow_hosts": ["127.0.0.1"],
        "allow_ports": [site.port],
        "timeout": 0.5,
        **extra,
    }
    return Config(tmp_path, tmp_path, "", raw={"evidence": evidence})


def test_check_link_against_a_real_server(site, tmp_path):
    from workflow.tasks.evidence_fetch import evidence_settings

    settings = evidence_settings(config_for(site, tmp_path))
    ok = check_link(site.url("/ok"), settings)
    assert (ok.status, ok.title, ok.pub_date, ok.opens) == (200, "政务公开专栏", "2026-03-02", True)
    assert len(ok.sha256) == 64
    moved = check_link(site.url("/moved"), settings)
    assert moved.final_url == site.url("/ok") and moved.sha256 == ok.sha256
    missing = check_link(site.url("/missing"), settings)
    assert (missing.status, missing.opens, missing.error) == (404, False, "打不开（HTTP 404）")
    private = check_link(site.url("/to-private"), settings)
    assert private.status is None and "跳转后" in private.error and "内网" in private.error
    slow = check_link(site.url("/slow"), settings)
    assert not slow.opens and "0.5 秒" in slow.error


def test_the_body_is_read_up_to_the_cap(site, tmp_path):
    import hashlib

    from workflow.tasks.evidence_fetch import evidence_settings

    settings = evidence_settings(config_for(site, tmp_path, max_bytes=1000))
    big = check_link(site.url("/big"), settings)
    assert big.opens and big.sha256 == hashlib.sha256(b"x" * 1000).hexdigest()


@pytest.mark.parametrize(
    ("evidence", "message"),
    [
        ({"allow_hosts": "intranet.gov.cn"}, "allow_hosts 应为列表"),
        ({"allow_ports": ["eighty"]}, "设置有误"),
        ({"timeout": 0}, "应为正数"),
        ({"year_end": "Dec 20"}, "MM-DD"),
    ],
)
def test_wrong_settings_stop_the_daemon_at_start(db, tmp_path, evidence, message):
    from workflow.errors import ConfigError

    config = Config(tmp_path, tmp_path, "", raw={"evidence": evidence})
    with pytest.raises(ConfigError, match=message):
        Daemon(db=db, config=config, deliver=print).check_settings()


def test_checks_when_reported_before_verification_and_at_year_end(db, office, site, tmp_path):
    config = config_for(site, tmp_path)
    with db.session() as s:
        unit, aid = new_assignment(s, office, new_plan(s), "法规处", date(2026, 9, 30))
    links = [site.url(p) for p in ("/ok", "/missing", "/changing", "/to-private", "/slow")]
    play(
        db,
        office,
        unit,
        aid,
        [
            (
                date(2026, 3, 2),
                "report",
                {"text": "已发布", "evidence": [*links, "粤府办〔2026〕3号"]},
            )
        ],
    )

    first = run_due_checks(db, config, at(date(2026, 3, 2)), date(2026, 3, 2))
    assert (first["checked"], first["flagged"]) == (5, 3)
    assert {r["url"] for r in first["results"] if r["flag"]} == {links[1], links[3], links[4]}
    assert {r["stage"] for r in first["results"]} == {"reported"}
    again = run_due_checks(db, config, at(date(2026, 3, 2), 11), date(2026, 3, 2))
    assert again["checked"] == 0  # nothing due twice on the day

    site.changing = "第二版：内容已被修改"
    before_verify = run_due_checks(db, config, at(date(2026, 3, 3)), date(2026, 3, 3))
    assert before_verify["checked"] == 5
    assert {r["stage"] for r in before_verify["results"]} == {"verify"}
    with db.session() as s:
        flags = flagged_links(s)
    assert list(flags) == [aid]
    by_url = {f["url"]: f["flag"] for f in flags[aid]}
    assert by_url[links[2]] == "页面内容已变化（与报送时首次检查不同）"
    assert set(by_url) == {links[1], links[2], links[3], links[4]}

    play(db, office, unit, aid, [(date(2026, 3, 4), "verify", {})])
    assert run_due_checks(db, config, at(date(2026, 3, 10)), date(2026, 3, 10))["checked"] == 0
    year_end = run_due_checks(db, config, at(date(2026, 12, 21)), date(2026, 12, 21))
    assert year_end["checked"] == 5 and {r["stage"] for r in year_end["results"]} == {"year_end"}


def test_a_run_is_capped_per_host(db, office, site, tmp_path):
    config = config_for(site, tmp_path, per_host_per_minute=2)
    with db.session() as s:
        unit, aid = new_assignment(s, office, new_plan(s), "审批处", date(2026, 9, 30))
    links = [site.url(f"/ok?{i}") for i in range(3)]
    play(db, office, unit, aid, [(date(2026, 3, 2), "report", {"text": "x", "evidence": links})])
    run = run_due_checks(db, config, at(date(2026, 3, 2)), date(2026, 3, 2))
    assert (run["checked"], run["deferred"]) == (2, 1)
    assert run_due_checks(db, config, at(date(2026, 3, 2)), date(2026, 3, 2))["checked"] == 1


def test_the_daemon_upkeep_runs_the_checks(db, office, site, tmp_path):
    config = config_for(site, tmp_path)
    with db.session() as s:
        unit, aid = new_assignment(s, office, new_plan(s), "信息中心", date(2026, 9, 30))
    play(
        db,
        office,
        unit,
        aid,
        [(date(2026, 3, 2), "report", {"text": "x", "evidence": [site.url("/ok")]})],
    )
    daemon = Daemon(db=db, config=config, clock=lambda: at(date(2026, 3, 2)))
    run = daemon.run_upkeep_job()
    assert "佐证链接检查 1 个，有问题 0 个" in run.summary


# -- the doors: CLI (local and over HTTP), the 待核验 page, the evaluation workbook -----------


@pytest.fixture
def evidence_env(cli_env, site):
    """The office's duban.toml allows the test site (written before the server starts)."""
    folder = Path(cli_env["DUBAN_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "duban.toml").open("a", encoding="utf-8") as f:
        f.write(
            f'\n[evidence]\nallow_hosts = ["127.0.0.1"]\nallow_ports = [{site.port}]\ntimeout = 0.5\n'
        )
    return cli_env


def test_evidence_commands_page_and_workbook(evidence_env, duban, site, tmp_path, monkeypatch):
    import re

    from fastapi.testclient import TestClient
    from openpyxl import load_workbook

    from workflow.config import load_config

    duban.ok("unit", "add", "法规科", "--email", "fg@example.org")
    duban.ok("task", "add", "修订办事指南", "--unit", "法规科", "--due", "2026-03-31")
    unit_token = duban.json("token", "issue", "法规科")["token"]
    ok, missing = site.url("/ok"), site.url("/missing")
    duban.ok(
        "task",
        "report",
        "1",
        "--text",
        "已发布",
        "--evidence",
        ok,
        "--evidence",
        missing,
        "--evidence",
        "粤府办〔2026〕3号",
        token=unit_token,
    )

    refused = duban("evidence", "check", token=unit_token)
    assert refused.exit_code != 0 and "无权" in refused.output + refused.stderr
    result = duban.json("evidence", "check", "--as-of", "2026-03-02")
    assert (result["checked"], result["flagged"]) == (2, 1)
    flags = duban.json("evidence", "flags")
    assert [(f["url"], f["flag"]) for f in flags] == [(missing, "打不开（HTTP 404）")]
    text = duban.ok("evidence", "flags").output
    assert "打不开（HTTP 404）" in text and "共 1 个链接" in text

    for key, value in evidence_env.items():
        monkeypatch.setenv(key, value)
    from workflow.web.app import create_app

    client = TestClient(create_app(load_config(evidence_env)))
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/login", data={"token": evidence_env["DUBAN_TOKEN"], "csrf_token": csrf})
    verify = client.get("/office/verify").text
    assert verify.count("链接异常") == 1 and "链接异常：打不开（HTTP 404）" in verify

    book = tmp_path / "考核.xlsx"
    duban.ok("export", "evaluation", str(book), "--as-of", "2026-12-31")
    sheet = load_workbook(book)["佐证链接异常"]
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if c]
    assert missing in values and "打不开（HTTP 404）" in values and ok not in values
    report = tmp_path / "考核.html"
    duban.ok("export", "evaluation", str(report), "--as-of", "2026-12-31")
    page = report.read_text(encoding="utf-8")
    section = page[page.index("佐证链接核查") : page.index("扣分规则")]
    assert missing in section and "打不开（HTTP 404）" in section and ok not in section


@pytest.mark.parametrize(
    ("url", "address", "target", "host", "sni"),
    [
        ("https://www.gov.cn/a?b=1", "203.119.25.1", "https://203.119.25.1/a?b=1", "www.gov.cn", "www.gov.cn"),
        ("http://www.gov.cn:80/a", "203.119.25.1", "http://203.119.25.1:80/a", "www.gov.cn:80", None),
        ("https://www.gov.cn/", "2001:db8::1", "https://[2001:db8::1]/", "www.gov.cn", "www.gov.cn"),
        ("http://203.119.25.1/a", None, "http://203.119.25.1/a", None, None),
    ],
)  # fmt: skip
def test_the_request_is_pinned_to_the_vetted_address(url, address, target, host, sni):
    got, headers, extensions = pinned_request(url, address)
    assert got == target
    assert headers.get("Host") == host
    assert extensions.get("sni_hostname") == sni


def test_dns_rebinding_cannot_reach_the_intranet():
    """The name resolves to a public address when checked and to 127.0.0.1 right after: the
    request still goes to the address checked, and the name is looked up once per hop."""
    import httpx

    answers = [["203.119.25.1"], ["127.0.0.1"]]
    looked_up: list[str] = []

    def rebinding(host: str) -> list[str]:
        looked_up.append(host)
        return answers[min(len(looked_up), 2) - 1]

    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, html="<title>通知</title>")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        result = check_link("https://rebind.example/p", EvidenceSettings(), client, rebinding)
    assert looked_up == ["rebind.example"]
    assert [r.url.host for r in seen] == ["203.119.25.1"]
    assert seen[0].headers["Host"] == "rebind.example"
    assert seen[0].extensions["sni_hostname"] == "rebind.example"
    assert result.opens and result.final_url == "https://rebind.example/p"
