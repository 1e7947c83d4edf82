"""Many desks at once (issue 32): ``--desks`` units listing and reporting against
``duban serve --workers 2`` for ``--seconds``, on loopback only; it stops by itself.

    .venv/bin/python bench/bench_load.py [--desks 200] [--seconds 60] [--workers 2]
        [--think 2.0] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

A throwaway database (SQLite file, or a fresh schema on ``--pg``, dropped afterwards) gets
``--desks`` units with 30 tasks each and one token per unit. One asyncio process plays the
desks: each has its own connection from its own loopback address (127.1.x.y, as desks have
their own addresses: the failed-token throttle counts per address) and, after a pause drawn
from an exponential distribution of mean ``--think`` seconds, lists its tasks (the first page)
or, one time in five, reports one of its assignments. Every answer must be 2xx. Prints
p50/p99 latency for the whole run and for its last third, requests/s, errors and the load
average; the target is p99 < 150 ms with zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TASKS = 30


def _prepare(env: dict[str, str], desks: int) -> list[str]:
    """Units, tasks and one token per unit; the tokens."""
    from workflow.config import load_config
    from workflow.dates.clock import SHANGHAI
    from workflow.directory.roles import Caller
    from workflow.directory.setup import initialize
    from workflow.directory.tokens import issue_token
    from workflow.directory.units import add_unit
    from workflow.storage.db import Database
    from workflow.tasks.assignments import add_task

    config = load_config(env)
    initialize(config)
    db = Database(config.database_url)
    office = Caller("office", "办公室")
    now = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)
    with db.session() as s:
        names = [add_unit(s, office, f"第{i}科", now).name for i in range(desks)]
        for i in range(TASKS):
            add_task(s, office, f"任务{i}：公开政务信息", names, date(2026, 4 + i % 8, 28), now)
        tokens = [issue_token(s, office, name, now) for name in names]
    db.engine.dispose()
    return tokens


@contextmanager
def _database(tmp: str, pg: str | None):
    if not pg:
        yield f"sqlite:///{tmp}/duban.db"
        return
    import sqlalchemy as sa

    schema = f"load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(pg).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def _desk(i, url, token, start, stop, think, samples, errors):
    import httpx

    rng = random.Random(i)
    headers = {"Authorization": f"Bearer {token}"}
    # a kept connection is dropped before uvicorn's 5 s keep-alive ends it: else a request
    # sent as the server closes fails ("Server disconnected"), an artefact of the bench
    transport = httpx.AsyncHTTPTransport(
        local_address=f"127.1.{i // 250}.{i % 250 + 1}",
        limits=httpx.Limits(keepalive_expiry=3.0),
    )
    async with httpx.AsyncClient(
        base_url=url, transport=transport, headers=headers, timeout=10.0
    ) as http:
        first = await http.get("/api/v1/assignments")
        todo = [r["id"] for r in first.json()["result"]]
        rng.shuffle(todo)
        await asyncio.sleep(max(0.0, start - time.monotonic()) + rng.uniform(0, think))
        while time.monotonic() < stop:
            report = todo and rng.random() < 0.2
            began = time.monotonic()
            try:
                if report:
                    answer = await http.post(
                        f"/api/v1/assignments/{todo.pop()}/report", json={"text": "已按要求办结"}
                    )
                else:
                    answer = await http.get("/api/v1/assignments")
                ok = answer.status_code < 400
            except httpx.HTTPError as exc:
                ok, answer = False, type(exc).__name__
            ended = time.monotonic()
            samples.append((ended, ended - began, "report" if report else "list"))
            if not ok:
                errors.append(str(getattr(answer, "status_code", answer)))
            await asyncio.sleep(rng.expovariate(1 / think))


async def _drive(url, tokens, seconds, think):
    samples: list[tuple[float, float, str]] = []
    errors: list[str] = []
    start = time.monotonic() + 5  # every desk has listed once (unmeasured) by then
    stop = start + seconds
    desks = [_desk(i, url, t, start, stop, think, samples, errors) for i, t in enumerate(tokens)]
    await asyncio.wait_for(asyncio.gather(*desks), timeout=seconds + 60)
    return start, stop, samples, errors


def _quantiles(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--desks", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=2.0, help="mean pause of a desk (s)")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (else a SQLite file)")
    args = parser.parse_args()
    from live_server import serve

    with tempfile.TemporaryDirectory() as tmp, _database(tmp, args.pg) as database_url:
        env = dict(
            os.environ,
            DUBAN_CONFIG_DIR=f"{tmp}/c",
            DUBAN_DATA_DIR=f"{tmp}/d",
            DUBAN_DATABASE_URL=database_url,
            DUBAN_NOW="2026-03-10T09:00",
        )
        env.pop("DUBAN_SERVER", None)
        tokens = _prepare(env, args.desks)
        served = {k: env[k] for k in ("DUBAN_CONFIG_DIR", "DUBAN_DATA_DIR", "DUBAN_NOW")}
        served["DUBAN_DATABASE_URL"] = database_url
        args_ = ("--workers", str(args.workers))
        with serve(served, Path(tmp, "serve.log"), args_) as url:
            load_before = os.getloadavg()[0]
            start, stop, samples, errors = asyncio.run(
                _drive(url, tokens, args.seconds, args.think)
            )
            load_after = os.getloadavg()[0]
    kind = "PostgreSQL" if args.pg else "SQLite"
    print(
        f"{args.desks} desks, mean pause {args.think:g} s, {args.seconds:g} s against "
        f"duban serve --workers {args.workers} on {kind}"
    )
    late = start + (stop - start) * 2 / 3
    for label, rows in (
        ("whole run", samples),
        ("last third", [s for s in samples if s[0] >= late]),
        ("  lists", [s for s in samples if s[2] == "list"]),
        ("  reports", [s for s in samples if s[2] == "report"]),
    ):
        if not rows:
            continue
        p50, p99 = _quantiles([s[1] for s in rows])
        span = (stop - late) if label == "last third" else (stop - start)
        print(
            f"  {label:11s} {len(rows):6d} requests  {len(rows) / span:6.1f}/s"
            f"  p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms"
        )
    print(
        f"  errors: {len(errors)}" + (f" ({', '.join(sorted(set(errors))[:5])})" if errors else "")
    )
    p99 = _quantiles([s[1] for s in samples if s[0] >= late])[1]
    verdict = "met" if p99 < 0.150 and not errors else "NOT met"
    print(f"target p99 < 150 ms in the last third, zero errors: {verdict}")
    print(
        f"load average {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
