"""``duban serve``: run the HTTP API and pages (uvicorn) on this machine's database."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, type=int, show_default=True, help="监听端口")
@click.option("--ssl-certfile", default=None, help="TLS 证书文件（PEM）")
@click.option("--ssl-keyfile", default=None, help="TLS 私钥文件（PEM）")
def serve(host: str, port: int, ssl_certfile: str | None, ssl_keyfile: str | None) -> None:
    """运行督办服务（HTTP API 与网页），数据库和配置只留在本机。"""
    from cli.common import load, local_only

    local_only("duban serve")
    import uvicorn

    from workflow.web.app import create_app

    config, _ = load()  # refuse at start when the database is missing or behind the code
    uvicorn.run(
        create_app(config),
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="info",
        server_header=False,
        # X-Forwarded-For only from [server] trusted_proxies (the app reads it), never by default
        proxy_headers=False,
    )
