"""Dry-run deliveries: print messages to a stream, or write them as ``.eml`` files.

Both follow the SMTP sink's contract, ``deliver(messages, on_result) -> list[DeliveryResult]``,
so the outbox can be pointed at any of them from config. Recipient checks are the same as
for SMTP (a message with no usable address is ``permanent``), so a dry run reports what a
real run would refuse up front.
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

from notifiers.email import Clock, DeliveryResult, ResultCallback
from notifiers.message import (
    LazyMessage,
    Message,
    MessageError,
    message_bytes,
    resolve,
    split_recipients,
)

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _settle(message: Message) -> DeliveryResult | None:
    good, bad = split_recipients(message)
    if not good:
        return DeliveryResult(message.key, "permanent", "没有可用的收件人地址", refused=bad)
    return None


class ConsoleSink:
    """Print each message (headers and the text part) instead of sending it."""

    def __init__(self, stream: TextIO | None = None, *, now: Clock | None = None) -> None:
        self.stream = stream
        self.now = now

    def deliver(
        self, messages: Iterable[Message | LazyMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        stream = self.stream or sys.stdout
        results = []
        for item in messages:
            message = resolve(item)
            if message is None:
                continue  # settled by the caller
            result = _settle(message)
            if result is None:
                _, bad = split_recipients(message)
                stream.write(self._format(message))
                stream.flush()
                result = DeliveryResult(message.key, "sent", None, refused=bad)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    @staticmethod
    def _format(message: Message) -> str:
        lines = [
            "=" * 20 + " 邮件（未发送，仅显示）" + "=" * 20,
            f"Message-ID：{message.message_id}",
            f"发件人：{message.sender}",
            f"收件人：{'、'.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"抄送：{'、'.join(message.cc)}")
        lines += [f"主题：{message.subject}", "", message.text.rstrip("\n"), "", ""]
        return "\n".join(lines)


class FileSink:
    """Write each message as an RFC 5322 ``.eml`` file (text + HTML), one file per key.

    Writing the same key again replaces its file, so a repeated delivery leaves one file.
    """

    def __init__(self, directory: Path | str, *, now: Clock | None = None) -> None:
        self.directory = Path(directory)
        self.now = now

    def path_for(self, key: str) -> Path:
        """The file for ``key``: a readable slug plus a hash so distinct keys never collide."""
        slug = _SAFE_NAME.sub("_", key).strip("._")[:60] or "message"
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
        return self.directory / f"{slug}-{digest}.eml"

    def deliver(
        self, messages: Iterable[Message | LazyMessage], on_result: ResultCallback | None = None
    ) -> list[DeliveryResult]:
        self.directory.mkdir(parents=True, exist_ok=True)
        results = []
        for item in messages:
            message = resolve(item)
            if message is None:
                continue  # settled by the caller
            result = _settle(message) or self._write(message)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def _write(self, message: Message) -> DeliveryResult:
        _, bad = split_recipients(message)
        try:
            data = message_bytes(message, now=self.now() if self.now else None)
        except MessageError as exc:
            return DeliveryResult(message.key, "permanent", str(exc), refused=bad)
        target = self.path_for(message.key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".eml")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            return DeliveryResult(message.key, "temporary", f"写入邮件文件失败：{exc}")
        return DeliveryResult(message.key, "sent", None, refused=bad)
