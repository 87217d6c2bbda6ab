"""One access-log line per request, with its latency: what a lab's sysadmin greps and graphs.

    127.0.0.1 "GET /api/search?q=CAR-T" 200 2345B 23.4ms gen=20261130-…

Logged by the ``oncosearch.access`` logger (stderr under `oncosearch serve`); uvicorn's own access
log is turned off so that each request is one line.
"""

from __future__ import annotations

import logging
import time

from starlette.types import Receive, Scope, Send

from search.server.asgi import HttpMiddleware

log = logging.getLogger("oncosearch.access")
GENERATION_HEADER = b"x-oncosearch-generation"
MAX_LOGGED_URL = 300  # characters of path and query kept in a line


class AccessLog(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        status, size, generation = 500, 0, ""

        async def counting_send(message):
            nonlocal status, size, generation
            if message["type"] == "http.response.start":
                status = message["status"]
                generation = dict(message.get("headers") or []).get(GENERATION_HEADER, b"").decode("latin-1")
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            url = scope.get("raw_path", scope["path"].encode()).decode("latin-1") + (f"?{query}" if query else "")
            client = (scope.get("client") or ("-", 0))[0]
            log.info('%s "%s %s" %d %dB %.1fms%s', client, scope["method"], url[:MAX_LOGGED_URL], status, size,
                     (time.perf_counter() - start) * 1000, f" gen={generation}" if generation else "")


def setup_logging(access_log: bool = True) -> None:
    """Server and access lines on stderr (journald keeps them under systemd), in the serving process
    and in each worker process of --workers N (which starts without the parent's logging set-up)."""
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    log.setLevel(logging.INFO if access_log else logging.WARNING)
    for noisy in ("sentence_transformers", "transformers", "jieba", "faiss", "httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
