"""index/storage/store.py: volume, issue and pages are stored, and a store written before they existed
(the nightly servers keep older generations) still opens and reads them as None."""

from __future__ import annotations

import json
import sqlite3

from corpus import read_file
from index.builder import content_hash
from index.storage.store import Store, StoreWriter

# The records table as the code before volume/issue/pages wrote it (commit 02813fe).
OLD_RECORDS = """
CREATE TABLE records (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    pmid TEXT, doi TEXT, year INTEGER, journal TEXT,
    title_zh TEXT, title_en TEXT, abstract_zh TEXT, abstract_en TEXT,
    authors TEXT, keywords TEXT, pub_types TEXT, tags TEXT,
    source TEXT, content_hash TEXT NOT NULL,
    doc_start INTEGER NOT NULL, doc_count INTEGER NOT NULL,
    sent_start INTEGER NOT NULL, sent_count INTEGER NOT NULL
);
"""


def _cnki(shared):
    rec = read_file(shared / "fixtures" / "mrhelper" / "demo_cnki_202101.txt").records[0]
    assert (rec.volume, rec.issue, rec.pages) == ("19", "01", "168-170")
    return rec


def test_volume_issue_pages_are_stored(shared, tmp_path):
    rec = _cnki(shared)
    writer = StoreWriter(tmp_path / "store.sqlite")
    writer.add(1, rec, {}, content_hash(rec), 0, ["zh"], 0, [("zh", 0, rec.title["zh"])])
    writer.close()
    store = Store(tmp_path / "store.sqlite")
    try:
        got = store.find(rec.id).record
        assert got == rec
        assert (got.volume, got.issue, got.pages) == ("19", "01", "168-170")
    finally:
        store.close()


def test_a_store_written_before_the_columns_existed_reads_them_as_none(shared, tmp_path):
    rec = _cnki(shared)
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(OLD_RECORDS)
    conn.execute(
        f"INSERT INTO records VALUES ({','.join('?' * 20)})",
        (1, rec.id, rec.pmid, rec.doi, rec.year, rec.journal, rec.title.get("zh"), rec.title.get("en"),
         rec.abstract.get("zh"), rec.abstract.get("en"), json.dumps(list(rec.authors), ensure_ascii=False),
         json.dumps(list(rec.keywords), ensure_ascii=False), json.dumps(list(rec.pub_types), ensure_ascii=False),
         "{}", rec.source, "0" * 32, 0, 1, 0, 1),
    )
    conn.commit()
    conn.close()
    store = Store(path)
    try:
        for got in (store.find(rec.id).record, store.get([1])[1].record, next(store.iter_records()).record):
            assert (got.volume, got.issue, got.pages) == (None, None, None)
            assert got.title == rec.title and got.authors == rec.authors and got.journal == rec.journal
    finally:
        store.close()
