"""A pymilvus client for a URI: a file path runs milvus-lite embedded, ``http://host:19530`` a server.

The same client code talks to both; only the URI differs. A token (a server's "user:password" or
API key) is never written into an index directory: it comes from ``ONCOSEARCH_MILVUS_TOKEN``.
Every failure to reach Milvus becomes one `MilvusUnavailable` naming the URI, never a pymilvus
traceback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import MilvusUnavailable

ENV_TOKEN = "ONCOSEARCH_MILVUS_TOKEN"
CONNECT_TIMEOUT_S = 10.0
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
        raise MilvusUnavailable(uri, "pymilvus is not installed (pip install 'oncosearch[cluster]')") from None
    if not is_server(uri) and not Path(uri).parent.is_dir():
        raise MilvusUnavailable(uri, f"folder {Path(uri).parent} does not exist")
    token = token if token is not None else os.environ.get(ENV_TOKEN, "")
    with talking(uri, "connecting"):
        return MilvusClient(uri=uri, token=token, timeout=timeout)


@contextmanager
def talking(uri: str, doing: str) -> Iterator[None]:
    """Turn pymilvus's errors while `doing` something at `uri` into one MilvusUnavailable (and keep
    its log quiet meanwhile: the error says it once)."""
    from pymilvus.exceptions import MilvusException

    log = logging.getLogger("pymilvus")  # it logs every failed call as an ERROR with a traceback
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    except MilvusException as e:
        message = getattr(e, "message", "") or str(e)
        raise MilvusUnavailable(uri, f"{doing} failed: {message.strip().splitlines()[0][:300]}") from None
    finally:
        log.setLevel(level)
