"""Group robots (WeCom, DingTalk, Feishu): payloads, signatures, limits, errors, markdown.

Every delivery goes to a real HTTP server on a loopback port (tests/robot_server.py) that
checks keys and signatures with the documented algorithms. Clocks are injected.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from robot_server import (
    DINGTALK_LIMIT,
    FEISHU_LIMIT,
    WECOM_LIMIT,
    RobotServer,
    dingtalk_expected_sign,
    feishu_expected_sign,
)
from test_notifiers_render import context, item

from notifiers.email import DeliveryResult
from notifiers.render import KINDS, RenderError
from notifiers.robot_render import RobotRenderer, md, safe_link
from notifiers.robots import (
    DEFAULT_URLS,
    RobotEndpoints,
    RobotMessage,
    RobotSettingsError,
    RobotSink,
    RobotTarget,
    build_request,
    classify_answer,
    endpoints_from,
)

NOW = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
CJK = re.compile(r"[\u4e00-\u9fff]")

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
DING_SECRET = "SECd0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1"
FEISHU_HOOK = "2f9e6c1a-5b3d-4e8f-9a7c-1d2e3f4a5b6c"
FEISHU_SECRET = "fS3cr3tW1thSymb0ls+/="

TARGETS = {
    "wecom": RobotTarget.wecom(WECOM_KEY, userids=("wangke",), name="办公室群"),
    "dingtalk": RobotTarget.dingtalk(DING_TOKEN, DING_SECRET, mobiles=("13800138000",)),
    "feishu": RobotTarget.feishu(FEISHU_HOOK, FEISHU_SECRET, userids=("ou_abc",)),
}
SECRETS = (WECOM_KEY, DING_TOKEN, DING_SECRET, FEISHU_HOOK, FEISHU_SECRET)


@pytest.fixture
def server():
    with RobotServer(now=NOW) as srv:
        srv.wecom_keys.add(WECOM_KEY)
        srv.dingtalk_tokens[DING_TOKEN] = DING_SECRET
        srv.feishu_hooks[FEISHU_HOOK] = FEISHU_SECRET
        yield srv


def sink_for(server: RobotServer, now: datetime = NOW) -> RobotSink:
    return RobotSink(server.endpoints(), now=lambda: now, timeout=5)


def msg(kind: str, key: str = "k1", target: RobotTarget | None = None, **kw) -> RobotMessage:
    return RobotMessage(
        key, target or TARGETS[kind], "【督办提醒】政法科有1项任务即将到期", "正文", **kw
    )


def assert_safe(text: str | None) -> None:
    assert text is not None
    for secret in SECRETS:
        assert secret not in text
    assert not re.search(r"(key|sign|access_token|secret)=(?!\*\*\*)", text)
    assert "\n" not in text
    assert CJK.search(text)


# ---------------------------------------------------------------- targets and endpoints


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_repr_and_str_never_show_the_secrets(kind):
    target = TARGETS[kind]
    for text in (repr(target), str(target), target.label, f"{target}", repr([target])):
        for secret in SECRETS:
            assert secret not in text
    assert "已隐藏" in repr(target)


@pytest.mark.parametrize(
    "args, match",
    [
        (("wecom", ""), "为空"),
        (("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"), "非法字符"),
        (("wecom", "abc", "sec"), "没有签名密钥"),
        (("slack", "abc"), "wecom、dingtalk 或 feishu"),
    ],
)
def test_bad_targets_are_refused(args, match):
    with pytest.raises(RobotSettingsError, match=match):
        RobotTarget(*args)


def test_endpoints_env_wins_over_config_and_defaults():
    config = {"robots": {"wecom_url": "http://relay.gov.cn/wecom", "feishu_url": "http://f.cn/h/"}}
    env = {"DUBAN_ROBOT_WECOM_URL": "http://10.0.0.5/wx/send", "DUBAN_ROBOT_FEISHU_URL": ""}
    ends = endpoints_from(env, config)
    assert ends.wecom == "http://10.0.0.5/wx/send"
    assert ends.dingtalk == DEFAULT_URLS["dingtalk"]
    assert ends.feishu == "http://f.cn/h"  # empty env ignored, trailing slash dropped
    assert endpoints_from(None, config["robots"]).wecom == "http://relay.gov.cn/wecom"
    assert endpoints_from() == RobotEndpoints()
    with pytest.raises(RobotSettingsError, match="查询参数"):
        endpoints_from({"DUBAN_ROBOT_DINGTALK_URL": "https://x.cn/robot/send?access_token=1"})
    with pytest.raises(RobotSettingsError, match="http"):
        endpoints_from({}, {"dingtalk_url": "oapi.dingtalk.com/robot/send"})


# ---------------------------------------------------------------- success, payloads, signing


def test_wecom_payload(server):
    results = sink_for(server).deliver([msg("wecom")])
    assert results == [DeliveryResult("k1", "sent")]
    (req,) = server.requests
    assert req.query == {"key": WECOM_KEY}
    assert req.body == {"msgtype": "markdown", "markdown": {"content": "正文\n<@wangke>"}}
    assert req.content_type.startswith("application/json")
    assert "正文".encode() in req.raw_body  # UTF-8 on the wire, not \\u escapes


def test_dingtalk_payload_and_signature(server):
    assert sink_for(server).deliver([msg("dingtalk")])[0].status == "sent"
    (req,) = server.requests
    ts = str(int(NOW.timestamp() * 1000))
    assert req.query["timestamp"] == ts
    assert req.query["sign"] == dingtalk_expected_sign(DING_SECRET, ts)
    # The sign travels URL-encoded exactly once (base64's + / = are escaped).
    raw_sign = req.raw_query.split("sign=")[1].split("&")[0]
    assert "+" not in raw_sign and "/" not in raw_sign and "%" in raw_sign
    assert req.body == {
        "msgtype": "markdown",
        "markdown": {
            "title": "【督办提醒】政法科有1项任务即将到期",
            "text": "正文\n\n@13800138000",
        },
        "at": {"atMobiles": ["13800138000"], "isAtAll": False},
    }


def test_feishu_card_and_signature(server):
    assert sink_for(server).deliver([msg("feishu", grade="red")])[0].status == "sent"
    (req,) = server.requests
    ts = str(int(NOW.timestamp()))
    assert req.path.endswith("/" + FEISHU_HOOK)
    assert req.raw_query == ""
    assert req.body["timestamp"] == ts
    assert req.body["sign"] == feishu_expected_sign(FEISHU_SECRET, ts)
    assert req.body["msg_type"] == "interactive"
    card = req.body["card"]
    assert card["header"]["title"]["content"] == "【督办提醒】政法科有1项任务即将到期"
    assert card["header"]["template"] == "red"
    assert card["elements"] == [{"tag": "markdown", "content": "正文\n<at id=ou_abc></at>"}]


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_unsigned_robots_send_no_signature(server, kind):
    if kind == "dingtalk":
        server.dingtalk_tokens["plain"] = None
        target = RobotTarget.dingtalk("plain")
    else:
        server.feishu_hooks["plain"] = None
        target = RobotTarget.feishu("plain")
    assert sink_for(server).deliver([msg(kind, target=target)])[0].status == "sent"
    (req,) = server.requests
    assert "sign" not in req.query and "sign" not in req.body and "timestamp" not in req.body


# ---------------------------------------------------------------- failures


def _wrong(kind: str) -> RobotTarget:
    return {
        "wecom": RobotTarget.wecom("ffffffff-0000-0000-0000-000000000000"),
        "dingtalk": RobotTarget.dingtalk("deadbeef" * 8, DING_SECRET),
        "feishu": RobotTarget.feishu("00000000-dead-beef-0000-000000000000", FEISHU_SECRET),
    }[kind]


def _bad_secret(kind: str) -> RobotTarget:
    if kind == "dingtalk":
        return RobotTarget.dingtalk(DING_TOKEN, "SECwrongwrongwrong")
    return RobotTarget.feishu(FEISHU_HOOK, "wrong-secret")


CASES = [
    # (kind, how, expected status, words in the error)
    ("wecom", "wrong_key", "blocked", "93000"),
    ("dingtalk", "wrong_key", "blocked", "300001"),
    ("feishu", "wrong_key", "blocked", "19001"),
    ("dingtalk", "bad_secret", "blocked", "310000"),
    ("feishu", "bad_secret", "blocked", "19021"),
    ("dingtalk", "stale_clock", "blocked", "服务器时间"),
    ("feishu", "stale_clock", "blocked", "服务器时间"),
    ("wecom", "rate_limit", "temporary", "45009"),
    ("dingtalk", "rate_limit", "temporary", "130101"),
    ("feishu", "rate_limit", "temporary", "11232"),
    ("wecom", "http500", "temporary", "HTTP 500"),
    ("dingtalk", "http500", "temporary", "HTTP 500"),
    ("feishu", "http500", "temporary", "HTTP 500"),
    ("wecom", "garbage", "temporary", "无法识别"),
    ("feishu", "garbage", "temporary", "无法识别"),
    ("wecom", "wrong_base", "blocked", "HTTP 404"),
    ("dingtalk", "wrong_base", "blocked", "HTTP 404"),
]


@pytest.mark.parametrize("kind, how, status, words", CASES)
def test_failures_are_classified_and_never_leak_the_key(server, kind, how, status, words):
    target, now, endpoints = TARGETS[kind], NOW, server.endpoints()
    if how == "wrong_key":
        target = _wrong(kind)
    elif how == "bad_secret":
        target = _bad_secret(kind)
    elif how == "stale_clock":
        now = NOW - timedelta(hours=2)
    elif how == "wrong_base":
        endpoints = RobotEndpoints(
            **{
                "wecom": endpoints.wecom,
                "dingtalk": endpoints.dingtalk,
                "feishu": endpoints.feishu,
                kind: server.base + "/nowhere",
            }
        )
    else:
        server.fail_next(kind, how)
    seen: list[DeliveryResult] = []
    results = RobotSink(endpoints, now=lambda: now, timeout=5).deliver(
        [msg(kind, target=target)], seen.append
    )
    assert seen == results and len(results) == 1
    assert results[0].status == status, results[0].error
    assert words in results[0].error
    assert_safe(results[0].error)
    assert server.base not in results[0].error or "?" not in results[0].error
    assert target.token not in results[0].error


def test_server_errmsg_echoing_the_key_is_scrubbed(server):
    target = _wrong("wecom")
    (result,) = sink_for(server).deliver([msg("wecom", target=target)])
    assert result.status == "blocked"
    assert target.token not in result.error
    assert "（错误码 93000，平台原文：" in result.error  # the platform's words, labelled
    assert "e=93000" not in result.error  # the query part of the hint URL is dropped
    assert "key" in result.error  # it says what to fix


def test_blocked_robot_stops_its_batch_but_not_the_others(server):
    bad = _wrong("wecom")
    messages = [
        msg("wecom", "a", target=bad),
        msg("dingtalk", "b"),
        msg("wecom", "c", target=bad),
        msg("wecom", "d"),
    ]
    results = sink_for(server).deliver(messages)
    assert [(r.key, r.status) for r in results] == [
        ("a", "blocked"),
        ("b", "sent"),
        ("c", "blocked"),
        ("d", "sent"),
    ]
    assert "本批未再发送" in results[2].error
    assert len(server.requests) == 3  # "c" was never posted
    for r in results:
        if r.error:
            assert_safe(r.error)


def test_rate_limit_defers_the_rest_for_that_robot(server):
    server.fail_next("dingtalk", "rate_limit")
    messages = [msg("dingtalk", "a"), msg("dingtalk", "b"), msg("feishu", "c")]
    results = sink_for(server).deliver(messages)
    assert [r.status for r in results] == ["temporary", "temporary", "sent"]
    assert len(server.requests) == 2


def test_a_500_does_not_stop_the_batch(server):
    server.fail_next("wecom", "http500")
    results = sink_for(server).deliver([msg("wecom", "a"), msg("wecom", "b")])
    assert [r.status for r in results] == ["temporary", "sent"]


def test_connection_refused_is_temporary():
    srv = RobotServer(now=NOW).start()
    endpoints = srv.endpoints()
    srv.stop()
    results = RobotSink(endpoints, now=lambda: NOW, timeout=5).deliver(
        [msg("wecom", "a"), msg("wecom", "b")]
    )
    assert [r.status for r in results] == ["temporary", "temporary"]
    host = endpoints.wecom.split("//")[1].split("/")[0]
    assert f"无法连接机器人接口 {host}：连接被拒绝，该端口没有服务在监听" in results[0].error
    assert results[0].error.endswith("（系统原文：Connection refused）")
    assert_safe(results[0].error)


def test_a_hanging_robot_times_out_as_temporary(server):
    server.fail_next("feishu", "hang")
    sink = RobotSink(server.endpoints(), now=lambda: NOW, timeout=0.3)
    results = sink.deliver([msg("feishu", "a"), msg("feishu", "b"), msg("wecom", "c")])
    assert [r.status for r in results] == ["temporary", "temporary", "sent"]
    assert "超时" in results[0].error
    assert_safe(results[0].error)


@pytest.mark.parametrize(
    "kind, code, errmsg, status",
    [
        ("feishu", 9499, "too many request", "temporary"),
        ("feishu", 9499, "Bad Request", "permanent"),
        ("wecom", 44004, "empty content", "permanent"),
        ("dingtalk", 460101, "message too long", "permanent"),
        ("dingtalk", 400102, "robot stopped", "blocked"),
        ("wecom", 40008, "invalid message type", "blocked"),
        ("wecom", 123456, "?", "temporary"),
    ],
)
def test_errcode_table(kind, code, errmsg, status):
    got, text = classify_answer(kind, code, errmsg)
    assert got == status
    assert CJK.search(text)


@pytest.mark.parametrize(
    "kind, target",
    [
        ("wecom", RobotTarget.wecom(WECOM_KEY)),
        ("dingtalk", RobotTarget.dingtalk(DING_TOKEN, DING_SECRET)),
    ],
)
def test_a_message_the_server_rejects_is_permanent(server, kind, target):
    (result,) = sink_for(server).deliver([RobotMessage("e", target, "", "   ")])
    assert result.status == "permanent", result.error
    assert_safe(result.error)


# ---------------------------------------------------------------- size limits


def _long_context(n: int) -> dict:
    ctx = context("overdue")
    ctx["items"] = [item(i, -i, task_title=f"第{i}项：" + "长标题" * 15) for i in range(1, n + 1)]
    return ctx


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_too_long_messages_are_cut_at_a_line_and_still_sent(server, kind):
    renderer = RobotRenderer(max_items=400)
    message = renderer.message("long", TARGETS[kind], "overdue", _long_context(400))
    assert len(message.text.encode()) > 20000
    (result,) = sink_for(server).deliver([message])
    assert result.status == "sent", result.error
    (req,) = server.requests
    if kind == "wecom":
        text = req.body["markdown"]["content"]
        assert len(text.encode()) <= WECOM_LIMIT
        text = text.rsplit("\n", 1)[0]  # the mention line
    elif kind == "dingtalk":
        assert len(req.raw_body) <= DINGTALK_LIMIT
        text = req.body["markdown"]["text"].rsplit("\n\n", 1)[0]
    else:
        assert len(req.raw_body) <= FEISHU_LIMIT
        text = req.body["card"]["elements"][0]["content"].rsplit("\n", 1)[0]
    assert text.endswith("……（内容过长，已截断，共400项）")
    kept = text.rsplit("\n\n", 1)[0].splitlines()
    original = message.text.splitlines()
    assert kept == original[: len(kept)]  # whole lines only, in order
    assert len(kept) > 5


def test_a_single_huge_line_is_cut_inside_the_line():
    target = RobotTarget.wecom(WECOM_KEY)
    req = build_request(RobotMessage("x", target, "标题", "字" * 5000, total=1), now=lambda: NOW)
    content = json.loads(req.body)["markdown"]["content"]
    assert len(content.encode()) <= WECOM_LIMIT
    assert content.startswith("字字字") and content.endswith("共1项）")
    assert req.truncated


# ---------------------------------------------------------------- markdown rendering


@pytest.fixture(scope="module")
def renderer() -> RobotRenderer:
    return RobotRenderer()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_short_chinese_markdown(renderer, kind):
    r = renderer.render(kind, context(kind))
    assert CJK.search(r.title) and "\n" not in r.title and not r.title.startswith("#")
    assert r.text.startswith("### ")
    assert "督办系统" in r.text
    assert len(r.text.encode()) < 3000
    assert "查看" not in r.text  # no link unless the context carries one
    if kind not in ("test", "decision", "signin_link"):  # one task or none: no count
        assert r.total is not None and str(r.total) in r.title
        assert r.grade == "red"


@pytest.mark.parametrize("key", ["url", "link"])
def test_an_optional_link_is_shown(renderer, key):
    ctx = {**context("reminder"), key: "https://duban.gov.cn/tasks?unit=政法科"}
    text = renderer.render("reminder", ctx).text
    assert "[在督办系统中查看](https://duban.gov.cn/tasks?unit=%E6%94%BF%E6%B3%95%E7%A7%91)" in text
    assert safe_link("javascript:alert(1)") is None
    assert safe_link("") is None


def test_most_urgent_first_and_at_most_ten(renderer):
    r = renderer.render("overdue", _long_context(25))
    lines = [line for line in r.text.splitlines() if re.match(r"\d+\. ", line)]
    assert len(lines) == 10
    assert "第25项" in lines[0] and "第16项" in lines[9]
    assert "另有15项" in r.text
    assert r.total == 25
    assert "25项" in r.title


def test_digest_lists_units_and_urgent_items_with_their_unit(renderer):
    r = renderer.render("digest", context("digest"))
    assert "- 政法科：1项（逾期1项）" in r.text
    assert "- 信息科：1项" in r.text
    assert "财务科" not in r.text
    assert "（政法科）" in r.text
    assert r.text.index("第1项") < r.text.index("第4项")


def test_unit_text_cannot_inject_markdown_or_mentions(renderer):
    evil = "<@all> [点我](http://evil.cn) **粗** <at id=all></at>\n# 标题"
    r = renderer.render(
        "reminder", {**context("reminder"), "unit": evil, "items": [item(1, 2, task_title=evil)]}
    )
    assert "<@all>" not in r.text and "<at" not in r.text
    assert "](http://evil.cn)" not in r.text
    assert "\n# " not in r.text
    assert md("a\nb*c") == "a b＊c"


def test_empty_and_broken_contexts_fail_like_mails(renderer, tmp_path):
    with pytest.raises(RenderError):
        renderer.render("reminder", {**context("reminder"), "items": []})
    (tmp_path / "reminder.md").write_text("### {{ no_such_value }}", encoding="utf-8")
    with pytest.raises(RenderError, match="no_such_value"):
        RobotRenderer(tmp_path).render("reminder", context("reminder"))


def test_office_override_for_robot_text(tmp_path):
    (tmp_path / "due_today.md").write_text("## 今天到期：{{ unit|md }}\n详见系统", encoding="utf-8")
    r = RobotRenderer(tmp_path).render("due_today", context("due_today"))
    assert r.title == "今天到期：政法科"


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_rendered_notice_end_to_end(server, renderer, kind):
    message = renderer.message("row-7", TARGETS[kind], "escalation", context("escalation"))
    assert sink_for(server).deliver([message]) == [DeliveryResult("row-7", "sent")]
    body = server.requests[0].body
    blob = json.dumps(body, ensure_ascii=False)
    assert "逾期督办" in blob and "第2项" in blob
