"""Dry runs for group robots: print the markdown, or write one ``.md`` file per message.

Same contract as :class:`notifiers.robots.RobotSink` (``deliver(messages, on_result)``), chosen
by the same ``[notify] delivery = "console" | "file"`` as the mail dry runs, so a rehearsal
never posts into a real chat. Nothing secret is printed: the robot is named by its label.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from notifiers.email import DeliveryResult, ResultCallback
from notifiers.robots import RobotMessage

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _format(message: RobotMessage) -> str:
    return "\n".join(
        [
            "=" * 20 + " 群机器人消息（未发送，仅显示）" + "=" * 20,
            f"发往：{message.target.label}",
            f"标题：{message.title}",
            "",
            message.text.rstrip("\n"),
            "",
            "",
        ]
    )


class ConsoleRobotSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def deliver(
        self, messages: Iterable[RobotMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        stream = self.stream or sys.stdout
        results = []
        for message in messages:
            stream.write(_format(message))
            stream.flush()
            result = DeliveryResult(message.key, "sent")
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results


class FileRobotSink:
    """One ``<slug>-<hash>.md`` per key (written again: replaced, so one file per key)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path_for(self, key: str) -> Path:
        slug = _SAFE_NAME.sub("_", key).strip("._")[:60] or "message"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
        return self.directory / f"{slug}-{digest}.md"

    def deliver(
        self, messages: Iterable[RobotMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        self.directory.mkdir(parents=True, exist_ok=True)
        results = []
        for message in messages:
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".md")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(_format(message))
            os.replace(tmp, self.path_for(message.key))
            result = DeliveryResult(message.key, "sent")
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results
