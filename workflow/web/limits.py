"""Request size limits: 1 MB for ordinary requests; uploads (ledgers, calendar notices) up to
``[server] max_upload_mb`` of duban.toml (default 20)."""

from __future__ import annotations

from workflow.errors import ConfigError

BODY_LIMIT = 1024 * 1024
DEFAULT_UPLOAD_MB = 20


def upload_limit(config) -> int:
    value = config.section("server").get("max_upload_mb", DEFAULT_UPLOAD_MB)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"[server] max_upload_mb 应为正数（MB）：{value!r}")
    return int(value * 1024 * 1024)
