"""Which proxies' ``X-Forwarded-For`` / ``X-Forwarded-Proto`` headers the server believes.

None by default: the remote address is the connection's peer, so a client cannot pick its own
address (and escape the failed-token throttle) by sending the header. An office behind nginx
lists the proxy in ``[server] trusted_proxies`` (addresses or networks, e.g. ``["127.0.0.1"]``);
only then does uvicorn's own :class:`ProxyHeadersMiddleware` read the headers, and only on
connections from those addresses. ``duban serve`` turns uvicorn's default trust of loopback off.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from workflow.errors import ConfigError


def trusted_proxies(section: dict) -> list[str]:
    """``[server] trusted_proxies`` of duban.toml, checked (an empty list when not set)."""
    value: Any = section.get("trusted_proxies", [])
    if isinstance(value, str) or not isinstance(value, list):
        raise ConfigError(
            f'配置 [server] trusted_proxies 无效：{value!r}（应为地址列表，如 ["127.0.0.1"]）'
        )
    for item in value:
        try:
            ipaddress.ip_network(str(item), strict=False)
        except ValueError:
            raise ConfigError(
                f"配置 [server] trusted_proxies 中的“{item}”不是 IP 地址或网段"
            ) from None
    return [str(item) for item in value]
