"""``duban serve``: run the HTTP API and pages (uvicorn) on this machine's database."""

from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, type=int, show_default=True, help="监听端口")
@click.option(
    "--workers",
    default=1,
    type=click.IntRange(1, 64),
    show_default=True,
    help="工作进程数（多核机器上可设为核数；会话、限流等都在数据库中，进程之间共享）",
)
@click.option("--ssl-certfile", default=None, help="TLS 证书文件（PEM）")
@click.option("--ssl-keyfile", default=None, help="TLS 私钥文件（PEM）")
def serve(
    host: str, port: int, workers: int, ssl_certfile: str | None, ssl_keyfile: str | None
) -> None:
    """运行督办服务（HTTP API 与网页），数据库和配置只留在本机。"""
    from cli.common import load, local_only

    local_only("duban serve")
    import uvicorn

    from workflow.web.app import create_app

    config, _ = load()  # refuse at start when the database is missing or behind the code
    # One process: the app built here. Several: uvicorn's supervisor starts ``workers``
    # processes on one listening socket, each building the app from the same environment
    # (nothing a request relies on lives in one process's memory: see docs/serving.md).
    app = create_app(config) if workers == 1 else "workflow.web.app:create_app"
    uvicorn.run(
        app,
        factory=workers > 1,
        workers=workers if workers > 1 else None,
        host=host,
        port=port,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_level="info",
        server_header=False,
        # X-Forwarded-For only from [server] trusted_proxies (the app reads it), never by default
        proxy_headers=False,
    )
