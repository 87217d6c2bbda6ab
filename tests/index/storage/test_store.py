"""index/storage/store.py: a store written by StoreWriter reads back exactly, on real records (no vectors needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus import read_file
from index.builder import content_hash
from index.chunking import chunk_record
from index.lexical.glossary import Glossary
from index.storage.store import Store, StoreWriter

ROOT = Path(__file__).resolve().parents[3]
SEED = ROOT / "corpus" / "sample" / "immune-cell-therapy-review.zh-en.txt"


@pytest.fixture(scope="module")
def records(shared):
    """Three MEDLINE records (PMID + DOI), two CNKI records (Chinese, hash ids) and the bilingual seed page."""
    medline = read_file(shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib").records[:3]
    cnki = read_file(shared / "fixtures" / "mrhelper" / "demo_cnki_202101.txt").records[:2]
    seed = read_file(SEED).records
    recs = medline + cnki + seed
    assert len(recs) == 6 and all(r.pmid and r.doi for r in medline) and len(seed) == 1
    return recs


@pytest.fixture(scope="module")
def written(records, tmp_path_factory):
    """A store holding `records` with glossary tags and contiguous vector ranges, as the builder lays them out.

    Rowids start at 1 and step by 1; doc vids and sentence vids run on across records. Returns
    (path, {record id: (rowid, tags, doc_langs, sentences, doc_start, sent_start)}).
    """
    glossary = Glossary.load()
    path = tmp_path_factory.mktemp("store") / "store.sqlite"
    writer = StoreWriter(path)
    layout = {}
    doc_next = sent_next = 0
    for rowid, rec in enumerate(records, 1):
        docs, sents = chunk_record(rec)
        tags = glossary.tags({lang: rec.text(lang) for lang in rec.langs})
        sentences = [(s.lang, s.position, s.text) for s in sents]
        writer.add(rowid, rec, tags, content_hash(rec), doc_next, [d.lang for d in docs], sent_next, sentences)
        layout[rec.id] = (rowid, tags, [d.lang for d in docs], sentences, doc_next, sent_next)
        doc_next += len(docs)
        sent_next += len(sentences)
    writer.set_meta("model_id", "use-m-v3-test")
    writer.close()
    return path, layout


@pytest.fixture
def store(written):
    s = Store(written[0])
    yield s
    s.close()


def test_counts_match_what_was_written(store, written, records):
    _, layout = written
    assert store.count() == len(records)
    assert store.count("docs") == sum(len(v[2]) for v in layout.values())
    assert store.count("sentences") == sum(len(v[3]) for v in layout.values())
    assert store.count("docs") == 7  # the seed page is bilingual: one doc vector per language
    with pytest.raises(AssertionError):
        store.count("meta; DROP TABLE records")


def test_get_returns_records_equal_to_what_was_written(store, written, records):
    _, layout = written
    rowids = [layout[r.id][0] for r in records]
    got = store.get(rowids + [999])  # unknown rowids are simply absent
    assert sorted(got) == sorted(rowids)
    for rec in records:
        stored = got[layout[rec.id][0]]
        assert stored.record == rec  # every field, the source path and both languages included
        assert stored.tags == layout[rec.id][1]
        assert stored.content_hash == content_hash(rec)
        assert (stored.doc_start, stored.doc_count) == (layout[rec.id][4], len(layout[rec.id][2]))
        assert (stored.sent_start, stored.sent_count) == (layout[rec.id][5], len(layout[rec.id][3]))


def test_get_in_batches_beyond_the_sqlite_variable_limit(store, written):
    _, layout = written
    rowids = list(range(-2000, 2000))  # more than one batch of 900 bound parameters
    assert sorted(store.get(rowids)) == sorted(v[0] for v in layout.values())


def test_tags_of_the_seed_review(store, records):
    seed = store.find(records[-1].id)
    assert seed is not None
    assert "car-t" in seed.tags.get("therapy", [])
    assert all(ids == sorted(ids) for ids in seed.tags.values())


def test_find_by_id_pmid_and_doi_forms(store, records):
    rec = records[0]
    assert rec.id == f"pmid:{rec.pmid}"
    for key in (rec.id, rec.pmid, f"pmid:{rec.pmid}", f"  {rec.pmid}\n", rec.doi, f"doi:{rec.doi}", rec.doi.upper(),
                f"DOI:{rec.doi.upper()}"):
        found = store.find(key)
        assert found is not None and found.record.id == rec.id, key
    chinese = records[3]
    assert chinese.id.startswith("h:") and store.find(chinese.id).record.title == chinese.title
    for missing in ("pmid:1", "123", "doi:10.1/none", "", "h:0000000000000000"):
        assert store.find(missing) is None, missing


def test_iter_records_in_rowid_order(store, records):
    assert [s.record for s in store.iter_records()] == records
    assert [s.rowid for s in store.iter_records()] == list(range(1, len(records) + 1))


def test_sentences_in_a_records_range(store, written, records):
    _, layout = written
    for rec in records:
        rowid, _, _, sentences, _, sent_start = layout[rec.id]
        rows = store.sentences_in(sent_start, len(sentences))
        assert [(lang, pos, text) for _, lang, pos, text in rows] == sentences
        assert [vid for vid, *_ in rows] == list(range(sent_start, sent_start + len(sentences)))
    seed_rows = store.sentences_in(layout[records[-1].id][5], len(layout[records[-1].id][3]))
    titles = {lang: text for _, lang, pos, text in seed_rows if pos == 0}
    assert titles == dict(records[-1].title)  # position 0 is the title, one per language
    assert store.sentences_in(10**6, 5) == []


def test_rowids_where_with_filter_clauses(store, written, records):
    _, layout = written
    chinese = {layout[r.id][0] for r in records if "zh" in r.langs}
    assert set(store.rowids_where("(title_zh IS NOT NULL OR abstract_zh IS NOT NULL)", ())) == chinese
    assert len(chinese) == 3
    assert set(store.rowids_where("year >= ?", (2024,))) == {layout[records[-1].id][0]}
    assert store.rowids_where("pmid = ?", (records[1].pmid,)) == [layout[records[1].id][0]]
    car_t = store.rowids_where(
        "EXISTS (SELECT 1 FROM json_each(records.tags, '$.therapy') WHERE value IN (?))", ("car-t",))
    assert layout[records[-1].id][0] in car_t
    assert all("car-t" in layout[r.id][1].get("therapy", []) for r in records if layout[r.id][0] in car_t)


def test_ranges_are_contiguous_and_cover_every_vector(store, written):
    ranges = store.ranges()
    assert [r[0] for r in ranges] == sorted(v[0] for v in written[1].values())
    doc_next = sent_next = 0
    for _, doc_start, doc_count, sent_start, sent_count in ranges:
        assert (doc_start, sent_start) == (doc_next, sent_next)
        doc_next += doc_count
        sent_next += sent_count
    assert (doc_next, sent_next) == (store.count("docs"), store.count("sentences"))


def test_store_is_read_only_and_rejects_foreign_files(written, tmp_path):
    import sqlite3

    s = Store(written[0])
    try:
        with pytest.raises(sqlite3.OperationalError):
            s.conn.execute("DELETE FROM records")
    finally:
        s.close()
    foreign = tmp_path / "other.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(sqlite3.DatabaseError):
        Store(foreign)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        Store(junk)


def test_meta_is_written(written):
    import sqlite3

    conn = sqlite3.connect(f"file:{written[0]}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'model_id'").fetchone() == ("use-m-v3-test",)
    finally:
        conn.close()


def test_duplicate_id_is_refused(records, tmp_path):
    import sqlite3

    writer = StoreWriter(tmp_path / "dup.sqlite")
    writer.add(1, records[0], {}, content_hash(records[0]), 0, ["en"], 0, [("en", 0, "t")])
    with pytest.raises(sqlite3.IntegrityError):
        writer.add(2, records[0], {}, content_hash(records[0]), 1, ["en"], 1, [("en", 0, "t")])
    writer.conn.close()
