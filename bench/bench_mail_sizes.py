"""The sizes of the biggest mails in an outbox: leader digests and escalations, and unit mails.

    python bench/bench_pipeline.py --days 60 --keep     # prints "kept: /tmp/duban-pipeline-…"
    python bench/bench_mail_sizes.py /tmp/duban-pipeline-…       # its duban.db
    python bench/bench_mail_sizes.py sqlite:///path/duban.db     # or any database URL

Every e-mail row of the outbox is rendered again with this checkout's templates (the stored
context, as the delivery renders it, without the refresh against the database) and its MIME
message built; the three biggest digests, escalations and unit mails are printed with their
MIME / HTML / text / stored context sizes, the units they are about and the items they stand for
and list. Run it with an old checkout's copy of this script (same database) to compare.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from notifiers.message import Message, message_bytes  # noqa: E402
from notifiers.render import Renderer  # noqa: E402
from workflow.chasing.check import render_context  # noqa: E402
from workflow.storage.db import Database  # noqa: E402
from workflow.storage.models import Notification  # noqa: E402


def sizes(url: str, top: int) -> list[tuple]:
    db = Database(url)
    renderer = Renderer()
    n = Notification.__table__
    out = []
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(n.c.key, n.c.kind, n.c.recipient_name, n.c.level, n.c.as_of, n.c.context)
            .where(n.c.channel == "email")
            .order_by(n.c.id)
        )
        for r in rows:
            ctx = r.context if isinstance(r.context, dict) else json.loads(r.context)
            mail = renderer.render(r.kind, render_context(ctx))
            message = Message(r.key, "<m@bench>", "office@bench.cn", ("to@bench.cn",),
                              mail.subject, mail.text, mail.html)  # fmt: skip
            if "units" in ctx:
                units = len(ctx["units"]) + len(ctx.get("compact_units") or [])
                units += (ctx.get("unlisted") or {}).get("units", 0)
                listed = sum(len(u["items"]) for u in ctx["units"])
            else:
                units, listed = 1, len(ctx.get("items") or [])
            out.append(
                (
                    len(message_bytes(message)),
                    len(mail.html.encode()),
                    len(mail.text.encode()),
                    len(json.dumps(ctx, ensure_ascii=False).encode()),
                    r.kind,
                    r.recipient_name,
                    str(r.as_of),
                    units,
                    ctx.get("total") or listed,
                    listed,
                )
            )
    db.engine.dispose()
    out.sort(reverse=True)
    leader = ("digest", "escalation")
    return (
        [o for o in out if o[4] == "digest"][:top]
        + [o for o in out if o[4] == "escalation"][:top]
        + [o for o in out if o[4] not in leader][:top]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("where", help="a kept bench_pipeline directory, or a database URL")
    parser.add_argument("--top", type=int, default=3, help="mails shown per group")
    args = parser.parse_args()
    url = args.where
    if "://" not in url:
        url = f"sqlite:///{Path(url) / 'duban.db' if Path(url).is_dir() else Path(url)}"
    print(f"{'MIME KB':>8} {'HTML KB':>8} {'text KB':>8} {'stored KB':>9}  "
          f"{'kind':16} {'recipient':12} {'as_of':10} {'units':>5} {'items':>6} {'listed':>6}")  # fmt: skip
    for mime, html, text, stored, kind, who, as_of, units, total, listed in sizes(url, args.top):
        print(f"{mime / 1024:8.0f} {html / 1024:8.0f} {text / 1024:8.0f} {stored / 1024:9.0f}  "
              f"{kind:16} {who:12} {as_of:10} {units:5} {total:6} {listed:6}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
