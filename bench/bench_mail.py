"""Benchmark: 1,000 ~1 KB CJK mails to a local aiosmtpd, reused connections vs one per message.

    python bench/bench_mail.py [--count 1000] [--concurrency 4]

The server runs in a subprocess (so it does not share the GIL with the client). Each run is
checked against the server's own count of accepted messages. Printed: the rate of
``notifiers.email.deliver`` (connections reused, 1 and N workers), the rate with a fresh
connection per message (sequential and N at a time, same message bytes), the ratios, and
the cost of building one MIME message, which is paid by every variant, and the same
comparison on pre-built bytes (transport only). Building a MIME message with the stdlib
``email`` package costs ~2 ms of CPU, so on a busy machine it narrows the end-to-end ratio;
the transport-only line shows what connection reuse itself saves.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiosmtplib  # noqa: E402

from notifiers.email import SmtpSettings, deliver  # noqa: E402
from notifiers.message import Message, bare_address, build_email, make_message_id  # noqa: E402

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

BODY = (
    "根据《{year}年政务公开工作要点》任务分解表，贵单位牵头的“{title}”一项将于{due}到期，"
    "目前尚未报送进展落实情况。请抓紧办理，并通过督办系统报送完成情况及佐证材料（链接、文号）。"
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

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def make_messages(count: int, run: str) -> list[Message]:
    messages = []
    for i in range(count):
        key = f"bench:{run}:{i}"
        text = "\n".join(
            BODY.format(year=2026, title=f"第{i}项 政策解读及时发布", due="2026年3月5日")
            for _ in range(2)
        )
        messages.append(
            Message(
                key=key,
                message_id=make_message_id(key, "office.example.cn"),
                sender="江门市政务公开办公室 <duban@office.example.cn>",
                to=(f"政法科 <unit{i % 40}@units.example.cn>",),
                subject=f"【督办提醒】第{i}项任务即将到期",
                text=text,
                html=f"<p>{text}</p>",
            )
        )
    return messages


async def transport_only(datas: list[bytes], port: int, reuse: bool) -> None:
    """Pre-built bytes, sequential: isolates the cost of connecting from building MIME."""
    if not reuse:
        for data in datas:
            await aiosmtplib.send(data, sender="duban@office.example.cn",
                                  recipients=["unit@units.example.cn"], hostname="127.0.0.1",
                                  port=port, start_tls=False, local_hostname="bench.local")  # fmt: skip
        return
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False,
                             local_hostname="bench.local")  # fmt: skip
    await client.connect()
    for data in datas:
        await client.sendmail("duban@office.example.cn", ["unit@units.example.cn"], data)
    await client.quit()


async def one_connection_per_message(messages: list[Message], port: int, parallel: int) -> int:
    """The naive way: ``aiosmtplib.send`` opens and closes a connection for every message."""
    gate = asyncio.Semaphore(parallel)
    sent = 0

    async def one(message: Message) -> None:
        nonlocal sent
        data = build_email(message).as_bytes()
        async with gate:
            await aiosmtplib.send(
                data,
                sender=bare_address(message.sender),
                recipients=[bare_address(a) for a in message.to],
                hostname="127.0.0.1",
                port=port,
                start_tls=False,
                local_hostname="bench.local",
            )
        sent += 1

    await asyncio.gather(*(one(m) for m in messages))
    return sent


def timed(label: str, server: Server, count: int, run) -> float:
    before = server.count()
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    accepted = server.count() - before
    if accepted != count:
        raise SystemExit(f"{label}: server accepted {accepted} of {count}")
    rate = count / elapsed
    print(f"  {label:<42} {elapsed:6.2f} s  {rate:7.0f} msg/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    n, c = args.count, args.concurrency

    sample = make_messages(1, "size")[0]
    size = len(build_email(sample).as_bytes())
    start = time.perf_counter()
    for m in make_messages(200, "build"):
        build_email(m).as_bytes()
    build_ms = (time.perf_counter() - start) / 200 * 1000
    print(f"{n} messages of {size} bytes (CJK text + HTML); building one costs {build_ms:.2f} ms")

    server = Server()
    try:
        # Warm up both paths (imports, first connection) outside the timings.
        settings = SmtpSettings("127.0.0.1", server.port, None, None, "none",
                                "duban@office.example.cn", concurrency=1,
                                local_hostname="bench.local")  # fmt: skip
        deliver(make_messages(5, "warm"), settings)
        asyncio.run(one_connection_per_message(make_messages(5, "warm2"), server.port, 1))

        def pooled(workers: int, run: str):
            s = SmtpSettings(**{**settings.__dict__, "concurrency": workers})
            return lambda: deliver(make_messages(n, run), s)

        def fresh(parallel: int, run: str):
            return lambda: asyncio.run(
                one_connection_per_message(make_messages(n, run), server.port, parallel)
            )

        print("end to end (build the MIME message + send), messages checked by the server:")
        reuse_1 = timed("deliver(), 1 reused connection", server, n, pooled(1, "r1"))
        reuse_c = timed(f"deliver(), {c} reused connections", server, n, pooled(c, "rc"))
        fresh_1 = timed("one connection per message, sequential", server, n, fresh(1, "f1"))
        fresh_c = timed(f"one connection per message, {c} at a time", server, n, fresh(c, "fc"))
        print("transport only (same pre-built bytes, sequential):")
        datas = [build_email(m).as_bytes() for m in make_messages(n, "t")]
        wire_reuse = timed("one reused connection", server, n,
                           lambda: asyncio.run(transport_only(datas, server.port, True)))  # fmt: skip
        wire_fresh = timed("one connection per message", server, n,
                           lambda: asyncio.run(transport_only(datas, server.port, False)))  # fmt: skip
    finally:
        server.close()

    print("ratios (reused / one connection per message):")
    print(f"  end to end, 1 at a time:        {reuse_1 / fresh_1:.2f}x")
    print(f"  end to end, {c} at a time:        {reuse_c / fresh_c:.2f}x")
    print(f"  deliver() default vs naive loop: {reuse_c / fresh_1:.2f}x")
    print(f"  transport only:                  {wire_reuse / wire_fresh:.2f}x")


if __name__ == "__main__":
    main()
