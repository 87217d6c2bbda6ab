"""Read-only key → value tables in SQLite, for big dictionaries that a query barely touches.

A cold ``oncosearch search`` used to spend most of its time loading jieba's prefix dictionary
(a ``marshal.load`` of ~600k entries) and parsing CC-CEDICT (120k lines), to look up a few dozen
substrings in each. A table built once from the same (key, value) pairs and opened read-only
answers those look-ups from disk in microseconds each, with nothing to load up front.

Tables live in ``$XDG_CACHE_HOME/oncosearch/tables/<name>-<key>.sqlite``, where <key> hashes
whatever determines the content (the caller passes the parts: source file sizes and mtimes,
package versions, a format number), so a changed source gets a new file. A table is written into
a temp file in the same folder, fsynced and renamed into place: concurrent builders and killed
processes never leave a half-written table under the final name, and a file is never modified
after the rename (so it is opened ``immutable``). Anything unexpected (cache folder unwritable,
file missing, unreadable or damaged) makes `open_table` / `build_table` return None and the
caller loads its dictionary the old way. ``ONCOSEARCH_NO_MODEL_CACHE=1`` turns these tables off,
as it does the model cache (index/models/use_numpy.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from index.storage.atomic import atomic_path

TABLE_FORMAT = 1
_TMP_PREFIX = ".tmp-"
_STALE_TMP_S = 24 * 3600  # a temp file this old belongs to a killed build: removed by the next build
_MEMO_MAX = 100_000  # the memo is for the few keys a query asks repeatedly; cleared when it grows past this
_MISSING = object()


def cache_dir() -> Path | None:
    """The tables folder, or None when ``ONCOSEARCH_NO_MODEL_CACHE`` turns the cache off."""
    if os.environ.get("ONCOSEARCH_NO_MODEL_CACHE"):
        return None
    from index.storage.layout import cache_home

    return cache_home() / "tables"


def table_path(name: str, key_parts: Iterable[Any]) -> Path | None:
    """Where the table `name` built from content identified by `key_parts` lives (None: cache off)."""
    folder = cache_dir()
    if folder is None:
        return None
    h = hashlib.sha1(json.dumps([TABLE_FORMAT, name, *key_parts], default=str, ensure_ascii=False).encode())
    return folder / f"{name}-{h.hexdigest()[:16]}.sqlite"


class DiskTable(Mapping):
    """A read-only Mapping over a table file: `in`, `[]` and `get` behave as on the dict it was built from.

    Look-ups go through one prepared statement; answers (misses included) are memoised per
    instance, since a query asks the same keys again and again. `decode`, if given, turns a stored
    value back into the caller's type on read. `meta` holds the small extra values stored with the
    table (see `build_table`). Safe to share between threads.
    """

    def __init__(self, path: str | Path, decode: Callable[[Any], Any] | None = None):
        self.path = Path(path)
        uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            self.meta: dict[str, Any] = {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}
            if self.meta.get("table_format") != TABLE_FORMAT:
                raise sqlite3.DatabaseError(f"{self.path}: not a table of format {TABLE_FORMAT}")
            # A truncated or padded file is damaged: sqlite would only notice on the page it misses.
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            page_size = self._conn.execute("PRAGMA page_size").fetchone()[0]
            if pages * page_size != self.path.stat().st_size:
                raise sqlite3.DatabaseError(f"{self.path}: size does not match its page count")
            self._cur = self._conn.cursor()
            self._cur.execute("SELECT value FROM kv WHERE key = ?", ("",)).fetchall()  # prepare it once
        except BaseException:
            self._conn.close()
            raise
        self._decode = decode
        self._memo: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def _lookup(self, key):
        memo = self._memo
        value = memo.get(key, _MISSING)
        if value is _MISSING:
            if not isinstance(key, str):
                return None  # only str keys are stored; a dict would simply not have this key either
            with self._lock:
                row = self._cur.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
            value = None if row is None else (row[0] if self._decode is None else self._decode(row[0]))
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            memo[key] = value
        return value

    # Stored values are never None (`build_table` refuses them), so None means "no such key".
    def __contains__(self, key) -> bool:
        return self._lookup(key) is not None

    def __getitem__(self, key):
        value = self._lookup(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        value = self._lookup(key)
        return default if value is None else value

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM kv").fetchone()[0]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            keys = [k for (k,) in self._conn.execute("SELECT key FROM kv")]
        return iter(keys)

    def items(self):
        """All (key, value) pairs, read in one pass (for checks and tools; look-ups use `get`)."""
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM kv").fetchall()
        decode = self._decode
        return rows if decode is None else [(k, decode(v)) for k, v in rows]

    def close(self) -> None:
        self._conn.close()

    def __repr__(self) -> str:
        return f"<DiskTable {self.path}>"


def open_table(name: str, key_parts: Iterable[Any], decode: Callable[[Any], Any] | None = None) -> DiskTable | None:
    """The table if it has been built and reads back sanely, else None (build it, or load the old way)."""
    path = table_path(name, key_parts)
    if path is None:
        return None
    try:
        return DiskTable(path, decode)
    except (OSError, sqlite3.Error, ValueError):
        return None


def build_table(
    name: str, key_parts: Iterable[Any], items: Iterable[tuple[str, Any]], meta: dict[str, Any] | None = None
) -> Path | None:
    """Write the (key, value) pairs as table `name` atomically; its path, or None if it could not be written.

    Keys are str, values anything SQLite stores (int, float, str, bytes) but None. `meta` is a small
    dict of JSON values kept alongside (``DiskTable.meta``). A table that already exists and reads
    back sanely is reused, not rebuilt; a damaged one is replaced. Never raises for a cache
    problem: the caller just goes on without a table.
    """
    path = table_path(name, key_parts)
    if path is None:
        return None
    if path.exists():
        try:
            DiskTable(path).close()
            return path
        except (OSError, sqlite3.Error, ValueError):
            pass  # damaged: replaced below
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path.parent)
        write_table(path, items, meta)
        return path
    except (OSError, sqlite3.Error, TypeError, ValueError):
        return None


def write_table(path: Path, items: Iterable[tuple[str, Any]], meta: dict[str, Any] | None = None) -> None:
    """Write the (key, value) pairs as a table file at `path`, atomically: a temp file in the same
    folder, fsynced, renamed into place. Raises OSError / sqlite3.Error on failure (nothing left behind).

    Used for cache tables (`build_table`) and for tables that belong to an index generation
    (index/lexical/bm25.py), which is itself written once and never modified.
    """
    with atomic_path(path, prefix=f"{_TMP_PREFIX}{path.stem}-", suffix=".sqlite") as tmp:
        rows = sorted(items, key=_first)  # key order: the B-tree is appended to, not split all over
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("BEGIN")
            conn.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value NOT NULL) WITHOUT ROWID")
            conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            conn.executemany("INSERT INTO kv VALUES (?, ?)", rows)
            meta = {**(meta or {}), "table_format": TABLE_FORMAT, "rows": len(rows)}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.chmod(tmp, 0o644)  # a cache file like any other, whatever the umask


def _first(row):
    return row[0]


def _remove_stale_temps(folder: Path) -> None:
    """Remove temp files that killed builds left behind (a live build's file is younger)."""
    now = time.time()
    try:
        for entry in os.scandir(folder):
            if entry.name.startswith(_TMP_PREFIX):
                try:
                    if now - entry.stat().st_mtime > _STALE_TMP_S:
                        os.unlink(entry.path)
                except OSError:
                    pass
    except OSError:
        pass
