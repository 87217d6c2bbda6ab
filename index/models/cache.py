"""Embeddings cached by text hash, one SQLite file per model.

Unchanged text is never embedded twice: a rebuild or a nightly update looks every chunk up
here first. Vectors are written in batches as they are computed, each batch one committed
transaction, so a build killed halfway keeps what it already paid for.

Crash safety: the file is in WAL mode with ``synchronous=NORMAL``. A process killed at any point
(kill -9 included) loses at most the batch it was inserting: SQLite rolls an uncommitted WAL
transaction back on the next open. (A power cut may also lose the last committed batches, never
the file; losing cache rows only costs recomputation.) The cache is only ever a cache: a file
that SQLite cannot read is moved aside as ``*.damaged-<time>`` and a fresh one started, with a
warning, instead of failing the build.

Concurrency: writers hold the index's writer lock; other processes sharing the cache (evaluation
runs) are serialised by SQLite itself (``timeout``), and readers never block the writer (WAL).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from pathlib import Path

import numpy as np

from index.storage.crashpoints import crash_point

log = logging.getLogger("oncosearch")


class EmbeddingCache:
    def __init__(self, cache_dir: Path, model_id: str, dim: int):
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.path_for(cache_dir, model_id)
        self.model_id = model_id
        self.dim = dim
        try:
            self.conn = self._open()
        except sqlite3.DatabaseError as e:
            self._move_aside(e)
            self.conn = self._open()

    @staticmethod
    def path_for(cache_dir: Path, model_id: str) -> Path:
        """The cache file of one model: one file per model, so vectors of two models never mix."""
        return cache_dir / f"embeddings-{hashlib.sha1(model_id.encode()).hexdigest()[:12]}.sqlite"

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('model_id', ?)", (self.model_id,))
            conn.execute("SELECT count(*) FROM (SELECT key FROM vectors LIMIT 1)").fetchone()
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self, error: Exception) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                p.rename(p.with_name(f"{p.name}.damaged-{stamp}"))
        log.warning("embedding cache %s unreadable (%s): moved aside, starting an empty one", self.path, error)

    def _reset(self, error: Exception) -> None:
        self.conn.close()
        self._move_aside(error)
        self.conn = self._open()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        try:
            return self._get_many(keys)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                raise
            self._reset(e)
            return {}

    def _get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 900):
            part = keys[i : i + 900]
            q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(part))})"
            for key, blob in self.conn.execute(q, part):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == self.dim:  # a damaged row is simply recomputed
                    out[key] = vec
        return out

    def put_many(self, keys: list[str], vectors: np.ndarray) -> None:
        rows = [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)]
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)
            crash_point("embed-commit")
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self.conn.close()
