"""The SQLite store of one generation: records, and the text behind every vector.

Vector ids are row numbers in the FAISS files; a record's doc vectors and sentence vectors are
contiguous ranges (``doc_start``/``doc_count``, ``sent_start``/``sent_count``), so scoring a
candidate record needs no join: reconstruct its range and take a dot product.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from corpus.record import Record

RECORD_RANGES_FILE = "ranges.npy"  # (rowid, doc_start, doc_count, sent_start, sent_count) per record, as in `records`

SCHEMA = """
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    pmid TEXT, doi TEXT, year INTEGER, journal TEXT,
    title_zh TEXT, title_en TEXT, abstract_zh TEXT, abstract_en TEXT,
    authors TEXT, keywords TEXT, pub_types TEXT, tags TEXT,
    source TEXT, content_hash TEXT NOT NULL,
    doc_start INTEGER NOT NULL, doc_count INTEGER NOT NULL,
    sent_start INTEGER NOT NULL, sent_count INTEGER NOT NULL,
    volume TEXT, issue TEXT, pages TEXT
);
CREATE INDEX records_pmid ON records(pmid);
CREATE INDEX records_doi ON records(doi);
CREATE INDEX records_year ON records(year);
CREATE TABLE sentences (
    vid INTEGER PRIMARY KEY, record INTEGER NOT NULL, lang TEXT NOT NULL, position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE docs (vid INTEGER PRIMARY KEY, record INTEGER NOT NULL, lang TEXT NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
"""


@dataclass(frozen=True)
class StoredRecord:
    rowid: int
    record: Record
    tags: dict
    content_hash: str
    doc_start: int
    doc_count: int
    sent_start: int
    sent_count: int


_COLUMNS = (
    "rowid, id, pmid, doi, year, journal, title_zh, title_en, abstract_zh, abstract_en, authors, keywords, "
    "pub_types, tags, source, content_hash, doc_start, doc_count, sent_start, sent_count, volume, issue, pages"
)
# Columns added after the first stores were written: a store without them reads them as NULL, so the
# generations a server keeps from older code still open.
_LATER_COLUMNS = ("volume", "issue", "pages")


def _select_list(conn: sqlite3.Connection) -> str:
    """`_COLUMNS` as this store can answer them (NULL for a column its code did not write yet)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
    missing = [c for c in _LATER_COLUMNS if c not in have]
    if not missing:
        return _COLUMNS
    return ", ".join(f"NULL AS {c}" if c in missing else c for c in (c.strip() for c in _COLUMNS.split(",")))


def _row_to_stored(row: tuple) -> StoredRecord:
    (rowid, rid, pmid, doi, year, journal, tzh, ten, azh, aen, authors, keywords, pub_types, tags, source,
     chash, ds, dc, ss, sc, volume, issue, pages) = row
    rec = Record(
        id=rid,
        title={k: v for k, v in (("zh", tzh), ("en", ten)) if v},
        abstract={k: v for k, v in (("zh", azh), ("en", aen)) if v},
        pmid=pmid, doi=doi, year=year, journal=journal, volume=volume, issue=issue, pages=pages,
        authors=tuple(json.loads(authors or "[]")), keywords=tuple(json.loads(keywords or "[]")),
        pub_types=tuple(json.loads(pub_types or "[]")), source=source or "",
    )
    return StoredRecord(rowid, rec, json.loads(tags or "{}"), chash, ds, dc, ss, sc)


class StoreWriter:
    """Writes a new store in one transaction (a crash leaves no half-filled store behind)."""

    def __init__(self, path: Path):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")  # the file is new and private until the switch
        self.conn.execute("PRAGMA synchronous=OFF")  # we fsync the finished file ourselves
        self.conn.executescript(SCHEMA)
        self.conn.execute("BEGIN")

    def add(self, rowid: int, record: Record, tags: dict, content_hash: str, doc_start: int, doc_langs: list[str],
            sent_start: int, sentences: list[tuple[str, int, str]]) -> None:
        self.conn.execute(
            f"INSERT INTO records ({_COLUMNS}) VALUES ({','.join('?' * 23)})",
            (rowid, record.id, record.pmid, record.doi, record.year, record.journal,
             record.title.get("zh"), record.title.get("en"), record.abstract.get("zh"), record.abstract.get("en"),
             json.dumps(list(record.authors), ensure_ascii=False),
             json.dumps(list(record.keywords), ensure_ascii=False),
             json.dumps(list(record.pub_types), ensure_ascii=False), json.dumps(tags, ensure_ascii=False),
             record.source, content_hash, doc_start, len(doc_langs), sent_start, len(sentences),
             record.volume, record.issue, record.pages),
        )
        self.conn.executemany(
            "INSERT INTO docs (vid, record, lang) VALUES (?,?,?)",
            [(doc_start + i, rowid, lang) for i, lang in enumerate(doc_langs)],
        )
        self.conn.executemany(
            "INSERT INTO sentences (vid, record, lang, position, text) VALUES (?,?,?,?,?)",
            [(sent_start + i, rowid, lang, pos, text) for i, (lang, pos, text) in enumerate(sentences)],
        )

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?,?)", (key, value))

    def close(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


class Store:
    """Read-only access to a generation's store."""

    def __init__(self, path: Path):
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        self.conn.execute("SELECT count(*) FROM records").fetchone()  # fail now if foreign or damaged
        self._columns = _select_list(self.conn)

    def count(self, table: str = "records") -> int:
        assert table in ("records", "sentences", "docs")
        return self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    def get(self, rowids: Iterable[int]) -> dict[int, StoredRecord]:
        rowids = list(rowids)
        out: dict[int, StoredRecord] = {}
        for i in range(0, len(rowids), 900):
            part = rowids[i : i + 900]
            q = f"SELECT {self._columns} FROM records WHERE rowid IN ({','.join('?' * len(part))})"
            for row in self.conn.execute(q, part):
                out[row[0]] = _row_to_stored(row)
        return out

    def find(self, key: str) -> StoredRecord | None:
        """A record by id, PMID or DOI."""
        key = key.strip()
        for sql, arg in (
            ("id = ?", key),
            ("pmid = ?", key.removeprefix("pmid:")),
            ("doi = ?", key.lower().removeprefix("doi:")),
        ):
            row = self.conn.execute(f"SELECT {self._columns} FROM records WHERE {sql} LIMIT 1", (arg,)).fetchone()
            if row:
                return _row_to_stored(row)
        return None

    def record_keys(self) -> list[tuple[str, str, str]]:
        """(id, content hash, source) of every record in rowid order: what a version is and where it
        was read from, without its text."""
        return [(rid, chash, source or "")
                for rid, chash, source in self.conn.execute("SELECT id, content_hash, source FROM records ORDER BY rowid")]

    def iter_records(self) -> Iterator[StoredRecord]:
        for row in self.conn.execute(f"SELECT {self._columns} FROM records ORDER BY rowid"):
            yield _row_to_stored(row)

    def sentences_in(self, start: int, count: int) -> list[tuple[int, str, int, str]]:
        """(vid, lang, position, text) of the sentences with vids [start, start+count): one record's
        (its contiguous range), read by primary key. Position 0 is a title."""
        return self.conn.execute(
            "SELECT vid, lang, position, text FROM sentences WHERE vid >= ? AND vid < ? ORDER BY vid",
            (start, start + count),
        ).fetchall()

    def rowids_where(self, where: str, args: tuple) -> list[int]:
        return [r[0] for r in self.conn.execute(f"SELECT rowid FROM records WHERE {where}", args)]

    def ranges(self) -> list[tuple[int, int, int, int, int]]:
        """(rowid, doc_start, doc_count, sent_start, sent_count) of every record."""
        return self.conn.execute(
            "SELECT rowid, doc_start, doc_count, sent_start, sent_count FROM records ORDER BY rowid"
        ).fetchall()

    def close(self) -> None:
        self.conn.close()
