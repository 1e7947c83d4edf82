"""Benchmark: the outbox path (``deliver_pending``) to a local aiosmtpd, pooled vs one connection
per message.

    python bench/bench_mail.py [--count 2000] [--concurrency 4]

Each run queues ``--count`` real outbox rows (reminders about real assignments in a SQLite file,
as the daily check writes them) and delivers them with ``workflow.outbox.delivery.
deliver_pending``: claim, refresh against the database, render the templates, build the MIME
message, send, and mark each row sent in its own transaction right after the server accepted
it. The server runs in a subprocess (it does not share the GIL with the client); each run is
checked against the server's own count and against the rows (all ``sent``).

Variants: reused connections (``[smtp] concurrency`` of them, then one), and the same outbox
path with a sink that opens a new connection for every message: connect, EHLO, the mail
(``aiosmtplib.send``: MAIL, RCPT, DATA), QUIT, one message after the other, as a sender without
pooling does. Printed beside the figures measured before (issue 18: the first outbox, then
the code before the CPU cuts of the second round). The client's and the server's CPU time per
mail are printed too: on a machine busy with other work the wall-clock rates shrink, the CPU
per mail much less.

Reading the ratio: pooled, the client and the server work at the same time (on two free cores
a mail costs the larger of the two CPU times); one connection per message, they take turns,
and each message also pays a connection. So the ratio is widest on a quiet machine and shrinks
towards the ratio of total CPU per mail when other processes take the cores.

``--code DIR`` runs the same measurement against another checkout (e.g. the code before the
second round: ``git worktree add /tmp/old e582bf0``; before the first: ``676cdef``), so old and
new can be compared side by side under the same load: ``bench_mail.py --code /tmp/old
--outbox-only``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

CODE = Path(__file__).resolve().parents[1]
if "--code" in sys.argv:
    CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve()
sys.path.insert(0, str(CODE))

import aiosmtplib  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from notifiers.email import DeliveryResult, classify, describe  # noqa: E402
from notifiers.message import bare_address, build_email  # noqa: E402

try:  # the direct wire form and lazy messages are new; an older checkout (--code) lacks them
    from notifiers.message import message_bytes, resolve
except ImportError:  # pragma: no cover - only when benchmarking older code

    def message_bytes(message, now=None):
        return build_email(message, now=now).as_bytes()

    def resolve(item):
        return item


from workflow.config import load_config  # noqa: E402
from workflow.dates.clock import SHANGHAI  # noqa: E402
from workflow.outbox.delivery import build_message, deliver_pending  # noqa: E402
from workflow.storage.db import Database  # noqa: E402
from workflow.storage.models import Assignment, Notification, Task, Unit  # noqa: E402

# Measured on the code before this change (README Benchmarks, issue 18), 2-core machine.
OLD = {
    "pooled": "135–178 msg/s",
    "ratio": "~1.2×",
    "build": "1.6 ms per MIME message (email.policy header folding)",
}
# Measured before the second round (issue 18, main at e582bf0), load average ~3.7, 2 cores.
OLD2 = {
    "pooled": "381 msg/s",
    "ratio": "2.2×",
    "client": "1.32 ms",
    "client_fresh": "2.33 ms",
}

SERVER = r"""
import sys
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

port = int(sys.argv[1])
controller = Controller(Counter(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(Counter.count, flush=True)
controller.stop()
"""

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
REQUIREMENT = (
    "按照《政府信息公开条例》要求，在门户网站政策解读专栏发布解读材料，"
    "解读材料与政策文件同步起草、同步审签、同步发布。"
)


class Server:
    """aiosmtpd in a child process; ``count()`` asks it how many messages it accepted."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def count(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def cpu(self) -> float:
        """The server process's CPU seconds so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class OneConnectionPerMessage:
    """A sink with the SMTP sink's contract that opens a new connection for every message."""

    def __init__(self, port: int) -> None:
        self.port = port

    def deliver(self, messages, on_result=None):
        return asyncio.run(self._deliver(list(messages), on_result))

    async def _deliver(self, messages, on_result):
        results = []
        for item in messages:
            message = resolve(item)  # rendered just in time, as the SMTP sink does
            if message is None:
                continue
            data = message_bytes(message, now=NOW)
            try:
                await aiosmtplib.send(
                    data,
                    sender=bare_address(message.sender),
                    recipients=[bare_address(a) for a in message.to],
                    hostname="127.0.0.1",
                    port=self.port,
                    start_tls=False,
                    local_hostname="bench.local",
                )
                result = DeliveryResult(message.key, "sent")
            except Exception as exc:  # noqa: BLE001 - reported like the SMTP sink does
                result = DeliveryResult(message.key, classify(exc), describe(exc))
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results


def office(tmp: Path, port: int, concurrency: int):
    config_dir = tmp / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "duban.toml").write_text(
        '[office]\nname = "江门市政务公开办公室"\nphone = "0750-3501234"\n'
        'email = "gkb@office.example.cn"\n'
        '[server]\nurl = "https://duban.office.example.cn"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        'from = "江门市政务公开办公室 <duban@office.example.cn>"\n'
        f'concurrency = {concurrency}\nlocal_hostname = "bench.local"\n',
        encoding="utf-8",
    )
    return load_config({"DUBAN_CONFIG_DIR": str(config_dir), "DUBAN_DATA_DIR": str(tmp)})


def fill(db: Database, count: int, run: str) -> None:
    """``count`` assignments across 40 units and one reminder row about each."""
    with db.engine.begin() as conn:
        first_unit = conn.execute(sa.select(sa.func.max(Unit.__table__.c.id))).scalar() or 0
        if not first_unit:
            conn.execute(
                sa.insert(Unit.__table__),
                [
                    {"name": f"第{u}科", "aliases": [], "groups": [],
                     "emails": [f"unit{u}@units.example.cn"], "active": True}
                    for u in range(40)
                ],
            )  # fmt: skip
        units = list(conn.execute(sa.select(Unit.__table__.c.id, Unit.__table__.c.name)))
        base = conn.execute(sa.select(sa.func.count()).select_from(Task.__table__)).scalar()
        conn.execute(
            sa.insert(Task.__table__),
            [
                {"kind": "manual", "section_path": ["一、深化重点领域信息公开"], "lead_units": [],
                 "title": f"第{base + i}项：政策解读及时发布", "content": REQUIREMENT,
                 "responsible_units": [], "cooperating_units": []}
                for i in range(count)
            ],
        )  # fmt: skip
        tasks = conn.execute(
            sa.select(Task.__table__.c.id).order_by(Task.__table__.c.id).offset(base)
        ).scalars()
        due = date(2026, 3, 5)
        conn.execute(
            sa.insert(Assignment.__table__),
            [
                {"task_id": t, "unit_id": units[i % 40].id, "state": "in_progress", "due": due,
                 "original_due": due, "version": 1}
                for i, t in enumerate(tasks)
            ],
        )  # fmt: skip
        new = conn.execute(
            sa.select(Assignment.__table__.c.id, Assignment.__table__.c.unit_id)
            .order_by(Assignment.__table__.c.id)
            .offset(base)
        ).all()
        names = {u.id: u.name for u in units}
        conn.execute(
            sa.insert(Notification.__table__),
            [
                {
                    "key": f"reminder:{run}:{a.id}",
                    "kind": "reminder",
                    "recipients": [f"unit{(a.unit_id - 1) % 40}@units.example.cn"],
                    "recipient_name": names[a.unit_id],
                    "assignment_id": a.id,
                    "level": 0,
                    "context": {
                        "office": "江门市政务公开办公室",
                        "unit": names[a.unit_id],
                        "recipient": names[a.unit_id],
                        "as_of": "2026-03-02",
                        "items": [
                            {
                                "assignment_id": a.id,
                                "task_title": "政策解读及时发布",
                                "section": "一、深化重点领域信息公开",
                                "due": "2026-03-05",
                                "working_days": 3,
                                "state_label": "办理中",
                                "last_report": "已完成专栏建设，正在补充办事指南。",
                                "last_report_at": "2026-02-27",
                            },
                        ],
                        "covers": [f"r:{a.id}:2026-03-05:3"],
                    },
                    "state": "pending",
                    "attempts": 0,
                    "next_attempt_at": NOW,
                    "as_of": date(2026, 3, 2),
                    "created_at": NOW,
                }  # fmt: skip
                for a in new
            ],
        )


def outbox_run(
    label: str, db, config, server: Server, count: int, run: str, sink=None
) -> tuple[float, float]:
    """(mails per second, client CPU ms per mail)."""
    fill(db, count, run)
    before = server.count()
    server_cpu = server.cpu()
    start = time.perf_counter()
    cpu = time.process_time()
    summary = deliver_pending(db, config, NOW, sink=sink)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    server_cpu = server.cpu() - server_cpu
    accepted = server.count() - before
    if accepted != count or summary.sent != count:
        raise SystemExit(f"{label}: server accepted {accepted}, marked sent {summary.sent}")
    with db.engine.connect() as conn:
        pending = conn.execute(
            sa.select(sa.func.count()).where(Notification.__table__.c.state != "sent")
        ).scalar()
    if pending:
        raise SystemExit(f"{label}: {pending} rows not marked sent")
    rate = count / elapsed
    print(
        f"  {label:<30} {elapsed:6.2f} s {rate:6.0f} msg/s   CPU per mail: client "
        f"{cpu / count * 1000:.2f} ms, server {server_cpu / count * 1000:.2f} ms"
    )
    return rate, cpu / count * 1000


def build_costs(db, config) -> None:
    from workflow.outbox.settings import renderer

    fill(db, 200, "build")
    with db.session() as session:
        rows = list(
            session.execute(
                sa.select(Notification).where(Notification.key.like("reminder:build:%"))
            ).scalars()
        )
    render = renderer(config)
    messages = [build_message(r, render, "江门市政务公开办公室 <duban@office.example.cn>",
                              "office.example.cn") for r in rows]  # fmt: skip
    start = time.perf_counter()
    for row in rows:
        build_message(row, render, "督办 <duban@office.example.cn>", "office.example.cn")
    render_ms = (time.perf_counter() - start) / len(rows) * 1000
    start = time.perf_counter()
    for m in messages:
        build_email(m, now=NOW).as_bytes()
    old_ms = (time.perf_counter() - start) / len(rows) * 1000
    start = time.perf_counter()
    for m in messages:
        message_bytes(m, now=NOW)
    new_ms = (time.perf_counter() - start) / len(rows) * 1000
    size = len(message_bytes(messages[0], now=NOW))
    print(f"one mail: {size} bytes (CJK text + HTML); rendering its templates {render_ms:.2f} ms")
    print(
        f"  MIME message, stdlib email.policy (old):     {old_ms:.2f} ms   [before: {OLD['build']}]"
    )
    print(f"  MIME message, written directly (new):         {new_ms:.2f} ms")
    with db.engine.begin() as conn:
        conn.execute(sa.delete(Notification.__table__).where(Notification.__table__.c.key.like("reminder:build:%")))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--code", help="benchmark the checkout in this directory instead")
    parser.add_argument("--outbox-only", action="store_true", help="skip the MIME build costs")
    args = parser.parse_args()
    print(f"code: {CODE}")
    n, c = args.count, args.concurrency

    server = Server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            db.upgrade()
            pooled_config = office(Path(tmp) / "c", server.port, c)
            single_config = office(Path(tmp) / "one", server.port, 1)
            if not args.outbox_only:
                build_costs(db, pooled_config)
            outbox_run("warm-up", db, pooled_config, server, 50, "warm")
            print(f"the outbox path, {n} mails (claim, refresh, render, build, send, mark sent):")
            pooled, pooled_cpu = outbox_run(
                f"{c} reused connections", db, pooled_config, server, n, "p"
            )
            one, _ = outbox_run("1 reused connection", db, single_config, server, n, "s")
            fresh, fresh_cpu = outbox_run(
                "one connection per message", db, pooled_config, server, n, "f",
                sink=OneConnectionPerMessage(server.port),
            )  # fmt: skip
            db.engine.dispose()
    finally:
        server.close()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average during the run: {load} on {os.cpu_count()} cores (wall figures shrink")
    print("  when other processes compete; the client CPU per mail does much less)")
    print("summary (the first outbox, before this round at load ~3.7 → now):")
    print(
        f"  pooled outbox path:             {OLD['pooled']}, {OLD2['pooled']} → {pooled:.0f} msg/s"
    )
    print(
        f"  pooled / one connection per message: {OLD['ratio']}, {OLD2['ratio']} → "
        f"{pooled / fresh:.1f}×"
    )
    print(
        f"  client CPU per mail, pooled: {OLD2['client']} → {pooled_cpu:.2f} ms; one connection "
        f"per message: {OLD2['client_fresh']} → {fresh_cpu:.2f} ms"
    )
    print(f"  1 reused connection / one per message: {one / fresh:.1f}×")


if __name__ == "__main__":
    main()
