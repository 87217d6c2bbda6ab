"""Embeddings cached by text hash, one SQLite file per model.

Unchanged text is never embedded twice: a rebuild or a nightly update looks every chunk up
here first. Vectors are written in batches as they are computed, each batch committed, so a
build killed halfway keeps what it already paid for.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, cache_dir: Path, model_id: str, dim: int):
        cache_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(model_id.encode()).hexdigest()[:12]
        self.path = cache_dir / f"embeddings-{name}.sqlite"
        self.dim = dim
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=60)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('model_id', ?)", (model_id,))

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
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
        self.conn.execute("BEGIN")
        self.conn.executemany("INSERT OR REPLACE INTO vectors (key, vec) VALUES (?, ?)", rows)
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()
