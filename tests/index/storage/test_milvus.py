"""The Milvus backend (milvus-lite, embedded from a file): a mirrored generation reads and ranks as
the local one it came from."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="the cluster extra (pip install 'oncosearch[cluster]') is not installed")

from index.errors import MilvusUnavailable  # noqa: E402
from index.storage import Filters, open_generation  # noqa: E402
from index.storage.base import DOCS, PASSAGES, SENTENCES  # noqa: E402
from index.storage.milvus import mirror_generation, open_milvus, schema  # noqa: E402
from index.storage.milvus.check import check_mirror  # noqa: E402
from index.storage.milvus.connect import connect  # noqa: E402
from index.storage.milvus.filters import contains, rowids_expression  # noqa: E402
from index.storage.milvus.writer import manifest_digest  # noqa: E402
from tests.index.storage import test_storage as shared_contract  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lite(built_index, tmp_path_factory) -> Path:
    """The session's real index mirrored into a milvus-lite file."""
    db = tmp_path_factory.mktemp("milvus") / "oncosearch.db"
    report = mirror_generation(built_index, db)
    assert not report.skipped and report.records > 0
    return db


@pytest.fixture(scope="module")
def local(built_index):
    return open_generation(built_index)


@pytest.fixture(scope="module")
def milvus(lite):
    return open_milvus(lite)


def _unit(dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_the_mirror_holds_every_record_vector_and_term_and_a_second_run_writes_nothing(built_index, lite, local,
                                                                                      milvus):
    again = mirror_generation(built_index, lite)
    assert again.skipped and again.generation == local.name
    client = connect(lite)
    names, pool, alive = schema.Names(local.name), milvus.pool, schema.alive_at(milvus.epoch)

    def count(name: str, expression: str = "") -> int:
        return client.query(name, filter=expression, output_fields=["count(*)"])[0]["count(*)"]

    assert count(pool.versions, alive) == count(pool.versions) == local.records == local.manifest.records
    assert client.has_collection(names.marker) and count(names.marker) == 0  # the generation's own: properties only
    for kind in (DOCS, SENTENCES, PASSAGES):
        assert count(pool.vectors(kind), alive) == count(pool.vectors(kind)) == local.field(kind).size
    assert count(pool.vocab, alive) == len(local.terms.indptr) - 1  # one row per BM25 column
    # every filter has a scalar index (milvus-lite refuses those on the ARRAY tags; a server takes them)
    filters = {"year", "has_zh", "has_en", "has_abstract", "journal_lc", "pub_types_lc", "authors_lc", "pmid", "doi"}
    assert filters | {"gen_from", "gen_to"} <= set(client.list_indexes(pool.versions))


@pytest.mark.parametrize("name", [
    "test_fields_keep_each_records_run", "test_nearest_honours_the_allow_list", "test_filters_are_evaluated_by_the_storage",
    "test_containing_matches_phrases_and_exclusions_in_titles_and_abstracts", "test_newest_orders_by_year_then_id",
    "test_sentences_leave_titles_out_and_point_into_the_run", "test_records_by_key_and_description",
])
def test_the_storage_contract_holds_on_milvus(name, milvus):
    getattr(shared_contract, name)(milvus)


def _placeless(stored):
    """A stored record without where its runs start: each backend numbers its own vectors (the
    local files 0, 1, 2 ...; a Milvus pool by version serial)."""
    return None if stored is None else replace(stored, doc_start=0, sent_start=0)


def test_records_sentences_and_order_read_back_as_stored(local, milvus):
    rows = list(range(local.records))
    theirs = milvus.get(rows)
    assert {r: _placeless(s) for r, s in theirs.items()} == {r: _placeless(s) for r, s in local.get(rows).items()}
    assert [theirs[r].sent_start >> schema.SERIAL_SHIFT for r in rows] == [r + 1 for r in rows]  # one serial each
    assert list(map(_placeless, milvus.iter_records())) == list(map(_placeless, local.iter_records()))
    assert all(milvus.sentences(r) == local.sentences(r) for r in rows)
    assert milvus.newest(None, local.records).tolist() == local.newest(None, local.records).tolist()
    for stored in list(local.iter_records())[::17]:
        r = stored.record
        keys = [r.id] + ([r.pmid, f"pmid:{r.pmid}"] if r.pmid else []) + ([r.doi.upper(), f"doi:{r.doi}"] if r.doi else [])
        assert all(_placeless(milvus.find(k)) == _placeless(local.find(k)) == _placeless(stored) for k in keys)
    assert milvus.find("") is None and milvus.find("pmid:") is None and milvus.find("no-such-record") is None
    held, expected = milvus.describe(), local.describe()
    for key in ("records_zh", "records_en", "records_bilingual", "years", "english_passages"):
        assert held[key] == expected[key]


def _filters(local) -> list[Filters]:
    every = list(local.iter_records())
    therapy = Counter(t for s in every for t in s.tags.get("therapy", [])).most_common(2)
    cancer = Counter(t for s in every for t in s.tags.get("cancer", [])).most_common(1)
    journal = next(s.record.journal for s in every if s.record.journal and " " in s.record.journal)
    with_doi = next(s.record for s in every if s.record.doi and s.record.pmid)
    author = next(s.record.authors[0] for s in every if len(s.record.authors) > 1)
    return [
        Filters(lang="zh"), Filters(lang="en"), Filters(year_from=2020), Filters(year_to=2019),
        Filters(year_from=2019, year_to=2020, lang="en"), Filters(therapy=("car-t",)),
        Filters(therapy=tuple(t for t, _ in therapy)), Filters(cancer=(cancer[0][0],), year_from=2018),
        Filters(journal=journal.split()[-1].upper()), Filters(pub_type="review"), Filters(pub_type="Clinical Trial"),
        Filters(has_abstract=True), Filters(has_abstract=False), Filters(author=author[2:9].upper()),
        Filters(pmid=with_doi.pmid), Filters(doi=f"https://doi.org/{with_doi.doi.upper()}"),
        Filters(journal="no such journal"),
    ]


def test_filters_select_the_same_records(local, milvus, monkeypatch):
    filters = _filters(local)
    expected = [local.allowed(f) for f in filters]
    assert all(e is not None for e in expected) and sum(len(e) > 0 for e in expected) >= 14
    assert len(expected[5]) > 0  # car-t: the subset holds every CAR-T abstract
    for f, e in zip(filters, expected, strict=True):
        assert milvus.allowed(f).tolist() == sorted(e.tolist()), f
    assert milvus.allowed(None) is None and milvus.allowed(Filters()) is None
    # a substring is a substring: "_" and "%" are themselves (SQLite's LIKE in the local store reads them
    # as wildcards, so there "a_b" also matches "Sarcoma Biology")
    literal = milvus.allowed(Filters(journal="a_b"))
    assert all("a_b" in (s.record.journal or "").lower() for s in milvus.get(literal.tolist()).values())
    monkeypatch.setattr(schema, "LIMIT", 7)  # a window of rowids per query: many windows give the same answer
    assert milvus.allowed(filters[1]).tolist() == sorted(expected[1].tolist())


def test_like_patterns_match_wildcards_literally():
    assert contains("journal_lc", "100%_x") == r'journal_lc like "%100\\%\\_x%"'
    assert rowids_expression(np.array([3, 1, 2, 40, 41, 42, 43, 44, 45, 46, 47])) == \
        "(rowid >= 40 and rowid <= 47) or rowid in [1, 2, 3]"


def test_vector_fields_give_the_same_runs_cosines_and_neighbours(local, milvus):
    rows = np.arange(local.records)
    for kind in (DOCS, SENTENCES, PASSAGES):
        ours, theirs = milvus.field(kind), local.field(kind)
        assert (ours.dim, ours.size) == (theirs.dim, theirs.size)
        assert ours.counts(rows).tolist() == theirs.counts(rows).tolist()
        qv = _unit(ours.dim, 7)
        np.testing.assert_allclose(ours.best(rows, qv), theirs.best(rows, qv), atol=1e-6)
        owning = rows[theirs.counts(rows) > 0]
        np.testing.assert_allclose(ours.first(owning, qv), theirs.first(owning, qv), atol=1e-6)
        row = int(owning[len(owning) // 2])
        offsets = np.arange(int(theirs.counts(np.array([row]))[0]))[::-1]
        np.testing.assert_allclose(ours.cosines(row, offsets, qv), theirs.cosines(row, offsets, qv), atol=1e-6)
        np.testing.assert_array_equal(ours.vectors(row), theirs.vectors(row))
        allowed = rows[::5]
        for k, among in ((40, None), (25, allowed), (10_000, allowed)):  # flat on both sides: exact neighbours
            assert Counter(ours.nearest(qv, k, among).tolist()) == Counter(theirs.nearest(qv, k, among).tolist())
        assert len(ours.nearest(qv, 10, np.array([], dtype=np.int64))) == 0


def test_a_long_allow_list_filters_an_oversampled_search_with_the_same_neighbours(local, milvus, monkeypatch):
    """A long, broad filter's allow-list is not sent as a `serial in [...]` expression but applied to
    the epoch's nearest vectors; too narrow a list for the oversampled search falls back to sending it,
    and by default a short or narrow one is sent (the parity tests above)."""
    from index.storage.milvus import storage as milvus_storage

    monkeypatch.setattr(milvus_storage, "PREFILTER_SERIALS", 0)  # every allow-list counts as long ...
    monkeypatch.setattr(milvus_storage, "OVERSAMPLE_SHARE", 0.0)  # ... and broad
    rows = np.arange(local.records)
    for kind in (DOCS, SENTENCES, PASSAGES):
        ours, theirs = milvus.field(kind), local.field(kind)
        sent: list[str] = []
        search = ours.client.search

        def recording(*args, sent=sent, search=search, **kwargs):
            sent.append(kwargs["filter"])
            return search(*args, **kwargs)

        monkeypatch.setattr(ours.client, "search", recording)
        qv = _unit(ours.dim, 11)
        for among in (rows[::2], rows[::5], rows[-1:]):
            for k in (10, 25):
                sent.clear()
                assert Counter(ours.nearest(qv, k, among).tolist()) == Counter(theirs.nearest(qv, k, among).tolist())
                assert len(sent) == 1 and "gen_" in sent[0] and "serial" not in sent[0]  # the epoch's, no list
        # no oversampling: the k nearest of the epoch hold too few allowed vectors, so the list is sent after
        monkeypatch.setattr(milvus_storage, "OVERSAMPLE", 0)
        sent.clear()
        among = rows[-3:]
        assert Counter(ours.nearest(qv, 10, among).tolist()) == Counter(theirs.nearest(qv, 10, among).tolist())
        assert len(sent) == 2 and "serial" not in sent[0] and "serial" in sent[1]
        monkeypatch.setattr(milvus_storage, "OVERSAMPLE", 2)
        monkeypatch.setattr(ours.client, "search", search)


QUERIES = ["免疫细胞治疗的安全性", "免疫細胞治療 CAR-T", "嵌合抗原受体T细胞 淋巴瘤",
           "CAR-T cell therapy cytokine release syndrome", "paclitaxel resistance in cervical cancer", "PD-1"]


def _lexical(searcher, text):
    lq = searcher.query(text).lexical
    return lq.tokens, lq.weights


def test_bm25_scores_document_frequencies_and_coverage_equal_the_local_leg(local, milvus, monkeypatch):
    from search.engine import Searcher

    searcher = Searcher(local)
    queries = [_lexical(searcher, q) for q in QUERIES]
    for tokens, weights in queries:
        np.testing.assert_allclose(milvus.terms.scores(tokens, weights), local.terms.scores(tokens, weights),
                                   rtol=1e-6, atol=1e-5)
        assert milvus.terms.document_frequency(tokens) == local.terms.document_frequency(tokens)
        assert milvus.terms.coverage(tokens, weights) == pytest.approx(local.terms.coverage(tokens, weights))
    assert milvus.terms.num_docs == local.terms.num_docs
    assert not milvus.terms.scores(["zzzz-not-a-term"]).any()
    monkeypatch.setattr(schema, "LIMIT", 5)  # more matches than a search returns: windows of 5 rowids, same scores
    tokens, weights = queries[3]
    assert (local.terms.scores(tokens, weights) > 0).sum() > 20
    np.testing.assert_allclose(milvus.terms.scores(tokens, weights), local.terms.scores(tokens, weights),
                               rtol=1e-6, atol=1e-5)


def _assert_same_ranking(ours, theirs):
    """Same records in the same order with the same scores (within float32 noise; a pair that close may swap)."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-5)
        if a.record.id != b.record.id:
            tied = {h.record.id for h in theirs if abs(h.score - a.score) <= 1e-5}
            assert {a.record.id, b.record.id} <= tied
        else:
            assert (a.snippet, a.snippet_lang) == (b.snippet, b.snippet_lang)


@pytest.fixture(scope="module")
def searchers(local, milvus):
    from search.engine import Searcher

    return Searcher(milvus), Searcher(local)


@pytest.mark.parametrize("text", QUERIES)
def test_the_searcher_ranks_the_same_on_both_backends_in_every_mode_and_filter(text, searchers):
    ours, theirs = searchers
    compared = 0
    for filters in (None, Filters(lang="zh"), Filters(year_from=2020, lang="en"), Filters(therapy=("car-t",))):
        for mode in ("hybrid", "dense", "lexical", "english"):
            expected = theirs.search(text, k=10, filters=filters, mode=mode)
            _assert_same_ranking(ours.search(text, k=10, filters=filters, mode=mode), expected)
            compared += len(expected)
    assert compared >= 60  # hits were compared, not empty lists
    _assert_same_ranking(ours.search(text, k=5, offset=5), theirs.search(text, k=5, offset=5))


def test_query_syntax_phrases_and_listings_run_the_same(searchers):
    ours, theirs = searchers
    for text in ('"cytokine release syndrome" CAR-T -tocilizumab', 'year:2020 "CAR-T"', '"免疫细胞"', "-the lymphoma"):
        _assert_same_ranking(ours.search(text, k=10), theirs.search(text, k=10))


def test_similar_and_show_are_the_same(searchers, local):
    from search.similar import similar

    ours, theirs = searchers
    every = list(local.iter_records())
    zh = next(s.record for s in every if "zh" in s.record.langs)
    for key in (every[0].record.id, every[len(every) // 2].record.pmid, zh.id):
        assert _placeless(ours.get(key)) == _placeless(theirs.get(key))
        for mode in ("hybrid", "dense", "lexical", "english"):
            if mode == "english" and key == zh.id and "en" not in zh.langs:
                continue
            a, b = similar(ours, key, k=8, mode=mode), similar(theirs, key, k=8, mode=mode)
            assert _placeless(a.source) == _placeless(b.source)
            _assert_same_ranking(a.hits, b.hits)
        a = similar(ours, key, k=8, filters=Filters(year_from=2020))
        _assert_same_ranking(a.hits, similar(theirs, key, k=8, filters=Filters(year_from=2020)).hits)


def test_an_unreachable_milvus_is_one_clear_error_naming_the_uri(tmp_path, lite):
    with pytest.raises(MilvusUnavailable, match=r"Milvus at http://127\.0\.0\.1:1: connecting failed"):
        connect("http://127.0.0.1:1", timeout=2)
    missing = tmp_path / "no-such-folder" / "x.db"
    with pytest.raises(MilvusUnavailable, match="does not exist") as e:
        open_milvus(missing)
    assert str(missing) in str(e.value)
    with pytest.raises(MilvusUnavailable, match="no oncosearch generation"):
        open_milvus(tmp_path / "empty.db")
    with pytest.raises(MilvusUnavailable, match="g999 is not mirrored"):
        open_milvus(lite, "g999")


def test_a_partly_written_mirror_is_refused_then_written_again_and_checked(built_index, local, tmp_path):
    db = tmp_path / "partial.db"
    client = connect(db)
    names = schema.Names(local.name)
    client.create_collection(names.marker, schema=schema.marker_schema(client),  # what a killed writer leaves
                             index_params=schema.sparse_index(client, "unit"))
    client.alter_collection_properties(names.marker, properties={schema.GENERATION: local.name})
    with pytest.raises(MilvusUnavailable, match="only partly mirrored"):
        open_milvus(db, local.name)
    assert not mirror_generation(built_index, db).skipped
    reopened = open_milvus(db)
    assert reopened.name == local.name and reopened.records == local.records
    generation = next(p for p in (built_index / "generations").iterdir() if p.name == local.name)
    assert mirror_generation(generation, db).skipped  # a generation folder names the same generation

    # `check_mirror` finds what a crash or a hand in the database did to it
    assert check_mirror(db, local.name, digest=manifest_digest(local)) == []
    assert check_mirror(db, local.name, digest="0" * 64) == [
        f"Milvus at {db}: generation {local.name}: mirrors another manifest than the local generation's: mirror it again"]
    pool = open_milvus(db, local.name).pool
    client.delete(pool.vectors(SENTENCES), ids=[1 << schema.SERIAL_SHIFT | o for o in range(3)])
    client.drop_collection(pool.vocab)
    problems = check_mirror(db, local.name)
    assert problems == [f"Milvus at {db}: generation {local.name}: {pool.vocab} missing"]
    client.create_collection(pool.vocab, schema=schema.vectors_schema(client, 4, False),
                             index_params=schema.dense_index(client, "flat"))
    assert "has fields" in check_mirror(db, local.name)[0]
    client.drop_collection(pool.vocab)
    client.create_collection(pool.vocab, schema=schema.vocab_schema(client),
                             index_params=schema.sparse_index(client, "unit"))
    problems = check_mirror(db, local.name)
    sentences = pool.vectors(SENTENCES)
    held, says = local.manifest.sentences - 3, local.manifest.sentences
    assert f"{sentences} holds {held} rows alive at epoch 1, the manifest says {says}" in problems[0]
    assert any(f"the versions' sentences runs cover {local.manifest.sentences} vectors" in p for p in problems)
    assert problems[-1].endswith("holds no term alive at epoch 1 (no BM25 terms)")
    assert check_mirror("http://127.0.0.1:1", local.name)[0].startswith("Milvus at http://127.0.0.1:1: connecting failed")


def test_the_cli_reads_a_mirrored_index_with_only_index_and_names_an_unreachable_milvus(built_index, tmp_path,
                                                                                       monkeypatch):
    import json
    import shutil

    from tests.conftest import ROOT
    from tests.search.cli_run import error_line, run

    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("ONCOSEARCH_INDEX", raising=False)
    from index.storage.milvus import writer

    monkeypatch.setattr(writer, "DRIFT", 0.5)
    copy, db = tmp_path / "idx", tmp_path / "lab.db"
    shutil.copytree(built_index, copy)  # with its embedding cache: the update below embeds nothing
    run("index", "mirror", "--index", copy, code=2)  # no URI given or remembered: a usage error
    assert "now reads from Milvus" in run("index", "mirror", "--milvus-uri", db, "--index", copy).stdout
    assert json.loads((copy / "milvus.json").read_text()) == {"backend": "milvus", "uri": str(db)}
    assert json.loads(run("index", "mirror", "--index", copy, "--json").stdout)["skipped"]  # remembered, written

    def same(*args):
        ours = json.loads(run(*args, "--index", copy, "--json").stdout)
        theirs = json.loads(run(*args, "--index", built_index, "--json").stdout)
        assert [h["id"] for h in ours["results"]] == [h["id"] for h in theirs["results"]] and ours["results"]
        return ours

    same("search", "CAR-T 细胞治疗 安全性")
    same("search", "cytokine release syndrome", "--year-from", "2020", "--lang", "en")
    same("search", "免疫細胞治療", "--mode", "lexical")
    first = json.loads(run("search", "CAR-T", "--index", built_index, "--json").stdout)["results"][0]["id"]
    same("similar", first)
    assert run("show", first, "--index", copy).stdout == run("show", first, "--index", built_index).stdout
    stats = json.loads(run("stats", "--index", copy, "--json").stdout)
    assert stats["records"] == json.loads(run("stats", "--index", built_index, "--json").stdout)["records"]
    assert run("index", "check", "--index", copy).stdout.startswith("ok: ")
    before = (copy / "CURRENT").read_text().strip()
    fresh = json.loads(run("show", first, "--index", built_index, "--json").stdout)
    for key in ("tags", "has_abstract"):
        fresh.pop(key)
    # "A-T-G": the tokenizer makes an empty token of it, a term like any other for both backends
    fresh.update(id="test:fresh-1", pmid=None, doi=None,
                 title={"en": "Tumour-infiltrating lymphocytes in a new trial that showed A-T-G"})
    (tmp_path / "new.jsonl").write_text(json.dumps(fresh, ensure_ascii=False) + "\n")
    # the writer diffs on (id, content hash) alone and reads the text of the rows it writes only
    from index.storage.local import LocalGeneration

    read: list[int] = []
    get, iter_records = LocalGeneration.get, LocalGeneration.iter_records

    def counted(self, rows):
        read.extend(rows)
        return get(self, rows)

    monkeypatch.setattr(LocalGeneration, "get", counted)
    monkeypatch.setattr(LocalGeneration, "iter_records", lambda self: pytest.fail("every record read"))
    updated = json.loads(run("index", "update", ROOT / "corpus" / "sample" / "immune-cell-therapy-review.zh-en.txt",
                             tmp_path / "new.jsonl", "--index", copy, "--json").stdout)
    monkeypatch.setattr(LocalGeneration, "get", get)
    monkeypatch.setattr(LocalGeneration, "iter_records", iter_records)
    assert 0 < len(set(read)) <= 2  # the new record (and nothing like the whole generation)
    assert updated["generation"] != before and updated["milvus"]["generation"] == updated["generation"]
    assert not updated["milvus"]["skipped"]  # build/update keep the mirror of the new generation current
    # incremental: the new record's version and the vocabulary rows whose document frequency moved,
    # nothing else (the average length moved less than DRIFT, set wide here)
    from index.lexical.bm25 import LexicalIndex

    report, terms = updated["milvus"], len(LexicalIndex(copy / "generations" / updated["generation"]).indptr) - 1
    assert (report["added"], report["retired"], report["rescored"]) == (1, 0, False)
    assert report["kept"] == updated["index_records"] - 1 and 0 < report["terms"] < terms / 2
    assert sum(report["vectors"].values()) < 100  # one record's vectors
    found = json.loads(run("search", "Tumour-infiltrating lymphocytes in a new trial", "--index", copy, "--json").stdout)
    assert found["results"][0]["id"] == "test:fresh-1"
    # the same generation's local files: the same dense ranking (BM25 rows scored against the
    # previous average length differ from the local leg's by under DRIFT's share)
    local_copy = tmp_path / "local-copy"
    shutil.copytree(copy, local_copy, ignore=shutil.ignore_patterns("milvus*.json"))
    for query in ("CAR-T 细胞治疗 安全性", "tumour-infiltrating lymphocytes"):
        ours, theirs = (json.loads(run("search", query, "--mode", "dense", "--index", i, "--json").stdout)
                        for i in (copy, local_copy))
        assert [h["id"] for h in ours["results"]] == [h["id"] for h in theirs["results"]] and ours["results"]
    assert run("index", "check", "--index", copy).stdout.startswith("ok: ")

    (copy / "milvus.json").write_text(json.dumps({"backend": "milvus", "uri": "http://127.0.0.1:1"}))
    line = error_line(run("search", "CAR-T", "--index", copy, code=1))
    assert line.startswith("oncosearch: error: Milvus at http://127.0.0.1:1: connecting failed")
    checked = run("index", "check", "--index", copy, code=1)
    assert "PROBLEM: Milvus at http://127.0.0.1:1: connecting failed" in checked.stderr
