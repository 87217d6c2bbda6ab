"""`oncosearch serve`: the HTTP API and the search page (the server itself is search/server/).

Registered in search/cli.py (``app.command("serve")(serve)``); this module imports nothing of
search.cli at import time, so `python -m search.cli serve` works (cli.py runs as __main__ there).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import typer


def serve(
    index: Path | None = typer.Option(None, "--index", help="Index directory. Default: $ONCOSEARCH_INDEX, else "
                                      "~/.local/share/oncosearch/index.", show_default=False),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on. Anything but loopback needs "
                             "--token."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (each holds the index and "
                                "the models: about 1 GB each)."),
    token: str | None = typer.Option(None, "--token", envvar="ONCOSEARCH_TOKEN", help="Secret every request must "
                                     "carry (Authorization: Bearer TOKEN, or the page's sign-in form); at least 16 "
                                     "characters. Required for a non-loopback --host. Prefer the ONCOSEARCH_TOKEN "
                                     "variable: a command line is visible to every user of the machine.",
                                     show_default=False),
    cors: str | None = typer.Option(None, "--cors", help="One origin allowed to call the API from its own pages, "
                                    "e.g. https://lab.example.org (none by default).", show_default=False),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No access log lines (errors are still logged)."),
) -> None:
    """Serve the search page and a JSON API over the index, read-only, until stopped.

    The page is at http://HOST:PORT/ (中文 / English), the API under /api/, its
    OpenAPI description at /openapi.json, the health check at /healthz. When
    cron's `index update` switches the index, the server answers from the new
    generation without a restart.

    Examples:

      oncosearch serve                                   # http://127.0.0.1:8765/

      oncosearch serve --index /srv/oncosearch/index --port 8080

      ONCOSEARCH_TOKEN=$(cat /etc/oncosearch/token) oncosearch serve --host 0.0.0.0 --workers 2

      curl 'http://127.0.0.1:8765/api/search?q=CAR-T细胞治疗的安全性&k=5'     # 中文检索

      curl 'http://127.0.0.1:8765/api/export?format=ris&q=PD-1+blockade+melanoma&k=50' -o pd1.ris
    """
    import uvicorn

    from search.cli import _index_dir
    from search.server.access import setup_logging
    from search.server.settings import ServerSettings

    settings = ServerSettings(index_dir=_index_dir(index), host=host, port=port, token=token or None,
                              cors_origin=cors, workers=workers, access_log=not quiet)
    settings.check()  # an unsafe address is refused before anything loads (the boundary words the error)
    setup_logging(settings.access_log)
    log = logging.getLogger("oncosearch.server")
    log.info("serving %s on http://%s:%d/ (%d worker%s%s)", settings.index_dir, _url_host(host), port, workers,
             "s" if workers > 1 else "", ", token required" if settings.token else "")
    common = dict(host=host, port=port, access_log=False, log_config=None, proxy_headers=True,
                  forwarded_allow_ips="127.0.0.1", timeout_graceful_shutdown=10)
    if workers == 1:
        from search.server.app import create_app

        uvicorn.run(create_app(settings), **common)
    else:
        _run_workers(settings, common)


def _run_workers(settings, common: dict) -> None:
    """`workers` processes sharing one listening socket, as uvicorn.run does, but with TCP_NODELAY
    on that socket (accepted connections inherit it): uvicorn sets it only on sockets it makes per
    worker, and without it every answer sent in two writes waits out the client's delayed ACK
    (about 40 ms a request)."""
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ.update(settings.to_env())
    config = uvicorn.Config("search.server.app:app_from_env", factory=True, workers=settings.workers, **common)
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
