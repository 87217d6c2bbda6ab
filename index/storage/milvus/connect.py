"""A pymilvus client for a URI: a file path runs milvus-lite embedded, ``http://host:19530`` a server.

The same client code talks to both; only the URI differs. A token (a server's "user:password" or
API key) is never written into an index directory: it comes from ``ONCOSEARCH_MILVUS_TOKEN``.
Every failure to reach Milvus becomes one `MilvusUnavailable` naming the URI, never a pymilvus
traceback; `retrying` repeats a call that failed for a passing reason (no answer, a restart, a
milvus-lite file another process holds) with growing pauses, within a deadline.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from index.errors import MilvusUnavailable

T = TypeVar("T")

ENV_TOKEN = "ONCOSEARCH_MILVUS_TOKEN"
CONNECT_TIMEOUT_S = 10.0
LITE_RECONNECT_S = 1.0  # pause before the one more try of a milvus-lite connection that failed
SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")


def is_server(uri: str) -> bool:
    """Whether `uri` names a Milvus server (anything else is a milvus-lite file)."""
    return uri.lower().startswith(SERVER_SCHEMES)


def normalise_uri(uri: str | Path) -> str:
    """A server URI as given; a milvus-lite file as an absolute path (so a later process in another
    working directory opens the same file)."""
    uri = str(uri).strip()
    return uri if is_server(uri) else str(Path(uri).expanduser().resolve())


def connect(uri: str | Path, token: str | None = None, timeout: float = CONNECT_TIMEOUT_S):
    """A `pymilvus.MilvusClient` for `uri` (token: `token`, else $ONCOSEARCH_MILVUS_TOKEN).

    Raises MilvusUnavailable when pymilvus is not installed, the server does not answer within
    `timeout`, or a milvus-lite file cannot be opened (its folder missing, the file not a database).
    """
    uri = normalise_uri(uri)
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise MilvusUnavailable(uri, "pymilvus is not installed (pip install 'oncosearch[cluster]')",
                                transient=False) from None
    # milvus-lite says at exit, at INFO, that its server stopped: not news to a cron mail
    logging.getLogger("milvus_lite").setLevel(max(logging.getLogger("milvus_lite").level, logging.WARNING))
    if not is_server(uri) and not Path(uri).parent.is_dir():
        raise MilvusUnavailable(uri, f"folder {Path(uri).parent} does not exist", transient=False)
    token = token if token is not None else os.environ.get(ENV_TOKEN, "")
    if not is_server(uri):
        from index.storage.milvus.lite import repair

        repair(Path(uri))  # index files a killed process left half-written
    with talking(uri, "connecting"):
        if is_server(uri):
            return MilvusClient(uri=uri, token=token, timeout=timeout)
        from pymilvus.exceptions import MilvusException

        try:
            return MilvusClient(uri=uri, token=token, timeout=timeout)
        except MilvusException:
            # milvus-lite serves the file from a thread of this process. A channel left idle while this
            # process was busy (an update indexing its new records) is sent a GOAWAY for its keepalive
            # pings, and the next connection on that port can fail with it; one more try a second
            # later connects (reproduced: a second client after 90 s of busy CPU).
            time.sleep(LITE_RECONNECT_S)
            return MilvusClient(uri=uri, token=token, timeout=timeout)


@contextmanager
def talking(uri: str, doing: str) -> Iterator[None]:
    """Turn pymilvus's errors while `doing` something at `uri` into one MilvusUnavailable (and keep
    its log quiet meanwhile: the error says it once)."""
    from pymilvus.exceptions import MilvusException

    # pymilvus logs every failed call as an ERROR with a traceback; milvus-lite logs one when its file
    # is held by another process, and its in-process gRPC server ("grpc._server") one for every
    # AllocTimestamp that pymilvus asks of it (deletes by filter, partial upserts), which it does not
    # implement and pymilvus does without
    logs = [logging.getLogger(name) for name in ("pymilvus", "milvus_lite", "grpc._server")]
    levels = [log.level for log in logs]
    for log in logs:
        log.setLevel(logging.CRITICAL)
    try:
        yield
    except MilvusException as e:
        message = getattr(e, "message", "") or str(e)
        if message == "Open local milvus failed" and not is_server(uri):
            message += " (is another process, e.g. oncosearch serve, using this file? a file serves one process "\
                       "at a time: share a Milvus server instead)"
        raise MilvusUnavailable(uri, f"{doing} failed: {message.strip().splitlines()[0][:300]}") from None
    finally:
        for log, level in zip(logs, levels, strict=True):
            log.setLevel(level)


def retrying(call: Callable[[], T], wait: float, on_retry: Callable[[MilvusUnavailable, float], None] | None = None,
             first_pause: float = 1.0, longest_pause: float = 30.0) -> T:
    """`call()`, repeated after a passing MilvusUnavailable with pauses doubling from `first_pause`
    (at most `longest_pause`) while the next try would still start within `wait` seconds of the
    first. The last error is raised; one that is not passing (`transient` False) at once.
    `on_retry(error, pause)` is told before each pause (a log line)."""
    deadline = time.monotonic() + max(wait, 0.0)
    pause = first_pause
    while True:
        try:
            return call()
        except MilvusUnavailable as e:
            if not e.transient or time.monotonic() + pause > deadline:
                raise
            if on_retry is not None:
                on_retry(e, pause)
            time.sleep(pause)
            pause = min(pause * 2, longest_pause)
