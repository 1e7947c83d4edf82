"""Channels beside e-mail: the daily check's outbox rows for group robots.

The planner decides *what* to tell *whom* (one row per recipient and kind, keyed for e-mail);
this step copies each planned row once per group robot its recipient has (企业微信 / 钉钉 /
飞书), with the key ``<e-mail key>#<channel>`` and ``channel`` set, so each channel is
exactly-once on its own, like e-mail. A recipient with robots but no e-mail address keeps only
its robot rows; the items' cover keys ride in every copy, so nothing is queued again on any
channel. A robot added later receives what is queued from then on, not what already went out.

The recipient of a planned row is the second ``:`` field of its key (``u<id>`` for a unit,
``p<id>`` for a leader), as every key the planner writes has it; it is stored in the robot
row's context as ``_owner`` for delivery.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.storage.models import Robot
from workflow.vocabulary import Channel

CHANNEL_LABELS = Channel.labels()  # workflow.vocabulary.Channel
OWNER = "_owner"  # context key of a robot row: whose robot it goes to


def robot_owners(session: Session) -> dict[str, list[str]]:
    """Owner (``u<id>`` / ``p<id>``) → the kinds of robot it has, sorted."""
    kinds: dict[str, list[str]] = defaultdict(list)
    r = Robot.__table__
    for owner, kind in session.execute(sa.select(r.c.owner, r.c.kind).order_by(r.c.kind)):
        kinds[owner].append(kind)
    return dict(kinds)


def owner_of_key(key: str) -> str | None:
    parts = key.split(":")
    return parts[1] if len(parts) > 1 and parts[1][:1] in ("u", "p") else None
