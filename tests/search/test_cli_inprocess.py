"""Every `oncosearch` command in-process through Typer's CliRunner, on real records and real files.

Search, show and stats read the session's `built_index`. Build, update and check use one small index
of 20 records of the same subset, built once for the module with a copy of `built_index`'s embedding
cache (the same texts), so nothing is embedded and no model is loaded. Every call checks that the
command ended by its exit code, not by an exception (CliRunner turns a crash into exit code 1).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.search.cli_run import error_line, run

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "corpus" / "sample" / "immune-cell-therapy-review.zh-en.txt"
SEED_TITLE_ZH = "肿瘤免疫细胞治疗:前景与挑战"
MESOTHELIN = "33795251"  # "Mesothelin-Specific CAR T Cells Target Ovarian Cancer." (2021)
CAR_T_REVIEW_2019 = "31845217"
SEARCH_KEYS = {"rank", "score", "id", "pmid", "doi", "year", "journal", "title_zh", "title_en", "snippet",
               "has_abstract"}
SMALL = [*range(0, 10), *range(23, 33)]  # lines of the subset: 10 CAR-T abstracts, then 10 others
EXTRA = [10, 11, 33, 34]  # 2 more of each, added by the update test


def run_json(*args, code: int = 0, env: dict | None = None):
    return json.loads(run(*args, "--json", code=code, env=env).stdout)


pytestmark = pytest.mark.usefixtures("isolated_cli")  # tests/search/conftest.py


@pytest.fixture(scope="module")
def current_store(built_index):
    """The store of `built_index`'s current generation, to check what the CLI printed against."""
    from index.storage.store import Store

    store = Store(built_index / "generations" / (built_index / "CURRENT").read_text().strip() / "store.sqlite")
    yield store
    store.close()


def tags_of(store, record_id: str) -> dict:
    stored = store.find(record_id)
    assert stored is not None, record_id
    return stored.tags


# --- search -------------------------------------------------------------------------------------------------


def test_search_table_for_people(built_index):
    out = run("search", "CAR-T细胞治疗的安全性", "--index", built_index).stdout
    assert "Results for: CAR-T细胞治疗的安全性" in out
    assert "PMID / DOI" in out and "score" in out
    assert SEED_TITLE_ZH in out  # the bilingual review, found by a Chinese query


def test_search_json_for_scripts(built_index):
    out = run_json("search", "Mesothelin-specific CAR T cells target ovarian cancer", "-k", "5", "--index", built_index)
    assert set(out) == {"query", "results"}
    assert out["query"] == "Mesothelin-specific CAR T cells target ovarian cancer"
    assert [r["rank"] for r in out["results"]] == [1, 2, 3, 4, 5]
    assert all(set(r) == SEARCH_KEYS for r in out["results"])
    assert out["results"][0]["pmid"] == MESOTHELIN and out["results"][0]["snippet"]
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_explain(built_index):
    out = run_json("search", "CD19 CAR-T relapse after allogeneic transplant", "-k", "3", "--explain",
                   "--index", built_index)
    top = out["results"][0]["explain"]
    assert set(top) == {"dense", "lexical", "english"}
    assert all(v["rank"] >= 1 and isinstance(v["score"], float) for v in top.values())
    table = run("search", "CD19 CAR-T relapse after allogeneic transplant", "-k", "3", "--explain",
                "--index", built_index).stdout
    assert "dense: #" in table and "lexical: #" in table and "english: #" in table
    plain = run("search", "CD19 CAR-T relapse after allogeneic transplant", "-k", "3", "--index", built_index).stdout
    assert "dense: #" not in plain


@pytest.mark.parametrize("mode", ["dense", "lexical", "english"])
def test_search_single_leg_modes(built_index, mode):
    out = run_json("search", "Mesothelin-specific CAR T cells target ovarian cancer", "--mode", mode, "-k", "3",
                   "--explain", "--index", built_index)
    assert out["results"][0]["pmid"] == MESOTHELIN
    legs = set(out["results"][0]["explain"])
    assert mode in legs and not legs & ({"lexical", "english"} - {mode})  # (dense also gives the snippet)


def test_search_language_filter(built_index):
    zh = run_json("search", "immune cell therapy", "--lang", "zh", "--index", built_index)
    assert [r["title_zh"] for r in zh["results"]] == [SEED_TITLE_ZH]  # the only record with Chinese text
    en = run_json("search", "免疫细胞治疗", "--lang", "en", "-k", "20", "--index", built_index)
    assert len(en["results"]) == 20 and all(r["title_en"] for r in en["results"])


def test_search_year_filters(built_index):
    later = run_json("search", "CAR-T cell therapy", "--year-from", "2021", "-k", "20", "--index", built_index)
    assert len(later["results"]) == 20 and all(r["year"] >= 2021 for r in later["results"])
    earlier = run_json("search", "CAR-T cell therapy", "--year-to", "2019", "--index", built_index)
    assert earlier["results"] and all(r["year"] <= 2019 for r in earlier["results"])
    assert CAR_T_REVIEW_2019 in [r["pmid"] for r in earlier["results"]]
    one_year = run_json("search", "CAR-T cell therapy", "--year-from", "2019", "--year-to", "2019",
                        "--index", built_index)
    assert {r["year"] for r in one_year["results"]} == {2019}


def test_search_therapy_filter(built_index, current_store):
    query = "radiation exposure and cancer risk"  # not a CAR-T question: unfiltered, other records come first
    plain = run_json("search", query, "-k", "10", "--index", built_index)
    assert any("car-t" not in tags_of(current_store, r["id"]).get("therapy", []) for r in plain["results"])
    by_id = run_json("search", query, "-k", "10", "--therapy", "car-t", "--index", built_index)
    assert len(by_id["results"]) == 10
    assert all("car-t" in tags_of(current_store, r["id"]).get("therapy", []) for r in by_id["results"])
    by_term = run_json("search", query, "-k", "10", "--therapy", "CAR-T", "--index", built_index)
    assert [r["id"] for r in by_term["results"]] == [r["id"] for r in by_id["results"]]


@pytest.mark.parametrize(("args", "words"), [
    (["CAR-T", "--mode", "fuzzy"], "--mode fuzzy"),
    (["CAR-T", "--lang", "fr"], "--lang fr"),
    (["   "], "empty query"),
    (["CAR-T", "--therapy", "no-such-therapy"], "not a therapy term"),
    (["CAR-T", "--therapy", "lymphoma"], "not a therapy term"),  # a cancer id is no therapy
    (["CAR-T", "--cancer", "car-t"], "not a cancer term"),
    (["CAR-T", "-k", "0"], "-k"),
])
def test_search_usage_errors_exit_2(built_index, args, words):
    result = run("search", *args, "--index", built_index, code=2)
    assert words in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["search", "CAR-T"], ["show", MESOTHELIN], ["stats"]])
def test_no_index_names_the_directory(tmp_path, command):
    missing = tmp_path / "no-index-here"
    result = run(*command, "--index", missing, code=1)
    line = error_line(result)
    assert str(missing) in line and "oncosearch index build" in line
    assert result.stdout == ""
    assert not missing.exists()  # a reading command creates nothing


# --- show ---------------------------------------------------------------------------------------------------


def test_show_by_pmid_table(built_index):
    out = run("show", MESOTHELIN, "--index", built_index).stdout
    assert "Mesothelin-Specific CAR T Cells Target Ovarian Cancer." in out
    assert f"pmid:{MESOTHELIN}  PMID {MESOTHELIN}  DOI 10.1158/0008-5472.can-20-2701  2021" in out
    assert "Source:" in out and "Tags:" in out


def test_show_json_by_id_pmid_and_doi(built_index):
    by_id = run_json("show", f"pmid:{MESOTHELIN}", "--index", built_index)
    assert by_id["id"] == f"pmid:{MESOTHELIN}" and by_id["pmid"] == MESOTHELIN
    assert by_id["title"]["en"].startswith("Mesothelin-Specific CAR T Cells")
    assert by_id["abstract"]["en"] and by_id["year"] == 2021
    assert "car-t" in by_id["tags"]["therapy"]
    for key in (MESOTHELIN, "doi:10.1158/0008-5472.can-20-2701", "10.1158/0008-5472.CAN-20-2701"):
        assert run_json("show", key, "--index", built_index) == by_id, key


def test_show_bilingual_seed(built_index):
    hit = run_json("search", "肿瘤免疫细胞治疗 前景与挑战", "--lang", "zh", "-k", "1", "--index", built_index)["results"][0]
    out = run("show", hit["id"], "--index", built_index).stdout
    assert SEED_TITLE_ZH in out and "Immune cell therapy for tumor" in out and "中国肿瘤生物治疗杂志" in out
    rec = run_json("show", hit["id"], "--index", built_index)
    assert set(rec["title"]) == set(rec["abstract"]) == {"zh", "en"}


def test_show_unknown_id_exits_1(built_index):
    result = run("show", "pmid:1", "--index", built_index, code=1)
    line = error_line(result)
    assert "no record" in line and "'pmid:1'" in line and str(built_index) in line
    assert result.stdout == ""


# --- stats --------------------------------------------------------------------------------------------------


def test_stats_json_and_table(built_index, sample_subset):
    info = run_json("stats", "--index", built_index)
    assert {"index_dir", "generation", "model_id", "dimension", "records", "records_zh", "records_en",
            "records_bilingual", "years", "doc_vectors", "sentence_vectors", "index_types", "english_passages",
            "size_mb", "fusion"} <= set(info)
    assert info["records"] == len(sample_subset[1]) + 1
    assert info["records_zh"] == info["records_bilingual"] == 1
    assert info["generation"] == (built_index / "CURRENT").read_text().strip()
    assert info["records_without_abstract"] == 0
    table = run("stats", "--index", built_index).stdout
    width = max(map(len, info))  # keys right-aligned to the longest
    assert f"{'records':>{width}}: {info['records']}" in table
    assert f"{'model_id':>{width}}: {info['model_id']}" in table
    assert f"{'records_without_abstract':>{width}}: 0" in table


# --- eval ---------------------------------------------------------------------------------------------------


QUESTIONS = {  # hand-written questions whose answer is one abstract of the subset
    "q1": ("mesothelin-targeted CAR T cells against ovarian carcinoma", f"pmid:{MESOTHELIN}"),
    "q2": ("blocking TNF-alpha and IL-1beta to reduce CRS and neurotoxicity after CAR-T infusion", "pmid:34093519"),
    "q3": ("infections in patients receiving CAR-T cells", "pmid:33249873"),
}


@pytest.fixture
def beir_folder(tmp_path, lines, built_index, monkeypatch):
    """A BEIR folder of 16 real CAR-T abstracts and 3 questions; XDG_CACHE_HOME in tmp, its embedding cache
    seeded from `built_index` (the same texts), so evaluation builds its index without embedding."""
    cache_home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    shutil.copytree(built_index / "cache", cache_home / "oncosearch" / "eval" / "cache")
    folder = tmp_path / "tiny-beir"
    (folder / "qrels").mkdir(parents=True)
    records = [json.loads(line) for line in lines[:16]]
    assert {doc for _, doc in QUESTIONS.values()} <= {r["id"] for r in records}
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps({"_id": r["id"], "title": r["title"]["en"], "text": r["abstract"]["en"]}) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        for qid, (text, _) in QUESTIONS.items():
            f.write(json.dumps({"_id": qid, "text": text}) + "\n")
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t1\n" for q, (_, d) in QUESTIONS.items()))
    return SimpleNamespace(folder=folder, eval_root=cache_home / "oncosearch" / "eval")


def test_eval_beir_folder(beir_folder):
    out = run_json("eval", beir_folder.folder)
    assert {"mode", "k", "corpus", "queries", "mrr@10", "recall@1", "recall@10", "ndcg@10"} <= set(out)
    assert "recall@100" not in out  # only with -k 100
    assert (out["mode"], out["k"], out["corpus"], out["queries"]) == ("hybrid", 10, 16, 3)
    assert out["mrr@10"] == out["recall@1"] == 1.0
    built = sorted(p.name for p in beir_folder.eval_root.iterdir() if p.name != "cache")
    assert len(built) == 1 and built[0].startswith("tiny-beir-")  # the evaluation index lives under XDG_CACHE_HOME
    lexical = run_json("eval", beir_folder.folder, "--mode", "lexical", "-k", "100")
    assert lexical["mode"] == "lexical" and lexical["recall@100"] == 1.0
    if "index" in out:  # where the report names the evaluation index
        assert out["index"].startswith(built[0]) and lexical["index"] == f"{built[0]} (reused)"
    assert sorted(p.name for p in beir_folder.eval_root.iterdir() if p.name != "cache") == built  # reused
    table = run("eval", beir_folder.folder, "--mode", "dense").stdout
    assert f"{'mode':>22}: dense" in table and "mrr@10" in table


def test_eval_on_the_milvus_backend_equals_local(beir_folder):
    pytest.importorskip("pymilvus", reason="the cluster extra (pip install 'oncosearch[cluster]') is not installed")
    for mode in ("hybrid", "lexical"):
        local = run_json("eval", beir_folder.folder, "--mode", mode)
        milvus = run_json("eval", beir_folder.folder, "--mode", mode, "--backend", "milvus")
        assert milvus["backend"] == "milvus" and local["backend"] == "local"
        assert {k: v for k, v in milvus.items() if isinstance(v, float)} == pytest.approx(
            {k: v for k, v in local.items() if isinstance(v, float)}, abs=1e-9)
    index = next(p for p in beir_folder.eval_root.iterdir() if p.name.startswith("tiny-beir-"))
    assert (index / "milvus-lite.db").exists()  # the mirror lives beside the evaluation index
    assert "--backend mongo: choose local or milvus" in error_line(
        run("eval", beir_folder.folder, "--backend", "mongo", code=2))


def test_eval_rejects_a_folder_that_is_no_benchmark(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    (tmp_path / "notes.txt").write_text("not a benchmark\n")
    line = error_line(run("eval", tmp_path, code=1))
    assert "not a BEIR folder" in line and "corpus.jsonl" in line


# --- ingest and formats -------------------------------------------------------------------------------------


def test_ingest_clean_files_exit_0(shared):
    mrhelper = shared / "fixtures" / "mrhelper"
    out = run_json("ingest", mrhelper / "demo_wanfang_202101.NET", mrhelper / "demo_cnki_202101.txt")
    assert out == {"files": 2, "records": 40, "records_without_abstract": 0, "merged": 0, "skipped": []}
    table = run("ingest", mrhelper / "demo_wanfang_202101.NET", mrhelper / "demo_cnki_202101.txt").stdout
    assert f"{mrhelper / 'demo_wanfang_202101.NET'}: noteexpress, 20 records, 0 skipped" in table
    assert f"{mrhelper / 'demo_cnki_202101.txt'}: cnki, 20 records, 0 skipped" in table
    assert "2 files, 40 records, 0 merged, 0 skipped, 0 without abstract" in table


def test_ingest_counts_a_title_only_record_exit_0(shared):
    """The real .nbib export: 10 records, record 7 a Letter without abstract. All 10 read, one counted apart."""
    nbib = shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib"
    out = run_json("ingest", nbib)
    assert (out["records"], out["records_without_abstract"], out["skipped"]) == (10, 1, [])
    table = run("ingest", nbib).stdout
    assert f"{nbib}: medline, 10 records, 0 skipped, 1 without abstract" in table
    assert "1 files, 10 records, 0 merged, 0 skipped, 1 without abstract" in table


def test_ingest_with_skips_exit_3(shared):
    nbib = shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib"
    ris = shared / "fixtures" / "rispy" / "example_bom.ris"  # one record: a DOI, no title, no abstract
    out = run_json("ingest", nbib, ris, code=3)
    assert (out["records"], out["records_without_abstract"]) == (10, 1)
    (skip,) = out["skipped"]
    assert skip["file"] == str(ris) and skip["record"] == 1 and skip["line"] == 1
    assert skip["reason"].startswith("no title or abstract")
    table = run("ingest", nbib, ris, code=3).stdout
    assert f"skipped {ris} record 1 (line 1): no title or abstract" in table


def test_ingest_merges_duplicates_from_a_folder(shared, tmp_path):
    wos = shared / "fixtures" / "mrhelper" / "demo_wos_202101.txt"
    for name in ("a.txt", "sub/b.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(wos, tmp_path / name)
    out = run_json("ingest", tmp_path)  # folders are read recursively
    assert (out["files"], out["records"], out["merged"], out["skipped"]) == (2, 10, 10, [])
    table = run("ingest", tmp_path).stdout
    assert "(same pmid)" in table and "(same doi)" in table


def test_ingest_nothing_readable_exit_1(shared):
    html = shared / "fixtures" / "biopython" / "pubmed3.html"
    out = run_json("ingest", html, code=1)
    assert out["records"] == 0 and "unrecognised format" in out["skipped"][0]["reason"]


def test_ingest_strict_stops_at_the_first_problem(shared):
    nbib = shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib"
    ris = shared / "fixtures" / "rispy" / "example_bom.ris"
    line = error_line(run("ingest", nbib, ris, "--strict", code=1))
    assert "--strict" in line and f"{ris} record 1" in line


def test_ingest_unknown_format_is_a_usage_error(shared):
    result = run("ingest", shared / "fixtures" / "mrhelper" / "demo_cnki_202101.txt", "--format", "docx", code=2)
    assert "--format docx" in result.stderr


def test_forced_format(shared):
    cnki = shared / "fixtures" / "mrhelper" / "demo_cnki_202101.txt"
    assert run_json("ingest", cnki, "--format", "cnki")["records"] == 20


def test_formats_lists_the_readme_names():
    names = run("formats").stdout.split()
    assert sorted(names) == sorted([
        "pubmed-xml", "medline", "ris", "endnote-xml", "refer", "refworks", "noteexpress", "cnki", "wos", "bibtex",
        "scopus-csv", "journal-page", "csl-json", "jsonl", "csv",
    ])


# --- index build / update / check ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lines(sample_subset) -> list[str]:
    """The subset's JSONL lines (Record.to_dict of real sample records): CAR-T abstracts first."""
    return sample_subset[0].read_text(encoding="utf-8").splitlines()


def ids_of(lines_: list[str]) -> list[str]:
    return [json.loads(line)["id"] for line in lines_]


@pytest.fixture(scope="module")
def small(tmp_path_factory, built_index, lines):
    folder = tmp_path_factory.mktemp("small")
    source = folder / "small.jsonl"
    source.write_text("".join(lines[i] + "\n" for i in SMALL), encoding="utf-8")
    index = folder / "index"
    shutil.copytree(built_index / "cache", index / "cache")  # embeddings of these very texts
    summary = run_json("index", "build", source, "--index", index, "--quiet")
    return SimpleNamespace(folder=folder, source=source, index=index, summary=summary)


def copy_of(small, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(small.index, target)
    return target


def current_ids(index: Path) -> list[str]:
    from index.storage.store import Store

    store = Store(index / "generations" / (index / "CURRENT").read_text().strip() / "store.sqlite")
    try:
        return [s.record.id for s in store.iter_records()]
    finally:
        store.close()


def test_index_build_summary(small, lines):
    s = small.summary
    assert {"files", "records", "merged", "added", "updated", "removed", "unchanged", "skipped", "embedded_chunks",
            "index_records", "generation", "seconds", "records_without_abstract",
            "index_records_without_abstract"} <= set(s)
    assert s["records_without_abstract"] == s["index_records_without_abstract"] == 0
    assert (s["files"], s["records"], s["added"], s["index_records"]) == (1, 20, 20, 20)
    assert (s["updated"], s["removed"], s["unchanged"], s["skipped"]) == (0, 0, 0, [])
    assert s["embedded_chunks"] == 0  # every text was in the embedding cache
    assert (small.index / "CURRENT").read_text().strip() == s["generation"]
    assert current_ids(small.index) == ids_of([lines[i] for i in SMALL])


def test_index_check_sound(small):
    out = run_json("index", "check", "--index", small.index)
    assert out["ok"] is True and out["problems"] == []
    assert out["records"] == 20 and out["generation"] == small.summary["generation"]
    assert out["model_id"].startswith("use-m-v3")
    line = run("index", "check", "--index", small.index).stdout.strip()
    assert line.startswith(f"ok: {small.summary['generation']} (20 records, ")


@pytest.mark.parametrize("victim", ["store.sqlite", "docs.faiss"])
def test_index_check_damaged_copy(small, tmp_path, victim):
    index = copy_of(small, tmp_path)
    path = index / "generations" / small.summary["generation"] / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle
    path.write_bytes(bytes(data))
    out = run_json("index", "check", "--index", index, code=1)
    assert out["ok"] is False
    assert any(victim in p and "checksum" in p for p in out["problems"]), out["problems"]
    result = run("index", "check", "--index", index, code=1)
    assert result.stdout == "" and any(victim in line for line in result.stderr.splitlines()
                                       if line.startswith("PROBLEM: "))
    search = run("search", "CAR-T cells", "--index", index, code=1)  # a search refuses it too, in one line
    assert victim in error_line(search)


def test_index_check_without_index(tmp_path):
    out = run_json("index", "check", "--index", tmp_path / "none", code=1)
    assert out["ok"] is False and str(tmp_path / "none") in out["problems"][0]


def test_index_update_adds_updates_and_keeps(small, tmp_path, lines):
    index = copy_of(small, tmp_path)
    changed = json.loads(lines[SMALL[2]])
    changed["journal"] = "Journal for ImmunoTherapy of Cancer"  # metadata only: a changed record, no new text
    update = tmp_path / "update.jsonl"
    update.write_text("".join(lines[i] + "\n" for i in SMALL[:10] if i != SMALL[2])
                      + json.dumps(changed, ensure_ascii=False) + "\n"
                      + "".join(lines[i] + "\n" for i in EXTRA), encoding="utf-8")
    s = run_json("index", "update", update, "--index", index, "--quiet")
    assert (s["added"], s["updated"], s["unchanged"], s["removed"]) == (4, 1, 9, 0)
    assert s["index_records"] == 24 and s["embedded_chunks"] == 0 and s["skipped"] == []
    assert current_ids(index) == ids_of([lines[i] for i in SMALL + EXTRA])  # kept in place, new ones last
    shown = run_json("show", changed["id"], "--index", index)
    assert shown["journal"] == "Journal for ImmunoTherapy of Cancer"
    assert shown["source"] == str(update)
    gens = sorted(p.name for p in (index / "generations").iterdir())
    assert gens == sorted([small.summary["generation"], s["generation"]])  # the current one and the previous
    assert run_json("index", "check", "--index", index)["ok"] is True

    # the first file again with --prune: its records come back to it (the changed one with its old journal);
    # the update file was not named this time and still exists, so its four new records stay
    s2 = run_json("index", "update", small.source, "--prune", "--index", index, "--quiet")
    assert (s2["added"], s2["updated"], s2["unchanged"], s2["removed"]) == (0, 1, 19, 0)
    assert s2["index_records"] == 24
    assert run_json("show", changed["id"], "--index", index)["source"] == str(small.source)


def test_index_update_prune_removes_what_a_file_no_longer_holds(small, tmp_path, lines):
    index = copy_of(small, tmp_path)
    export = tmp_path / "export.jsonl"
    shutil.copy(small.source, export)
    s = run_json("index", "update", export, "--index", index, "--quiet")  # the same records, now from this path
    assert (s["added"], s["updated"], s["unchanged"], s["removed"]) == (0, 0, 20, 0)
    export.write_text("".join(lines[i] + "\n" for i in SMALL[:-2]), encoding="utf-8")  # two records gone
    s = run_json("index", "update", export, "--index", index, "--quiet")
    assert (s["unchanged"], s["removed"], s["index_records"]) == (18, 0, 20)  # without --prune they stay
    s = run_json("index", "update", export, "--prune", "--index", index, "--quiet")
    assert (s["added"], s["updated"], s["unchanged"], s["removed"]) == (0, 0, 18, 2)
    assert current_ids(index) == ids_of([lines[i] for i in SMALL[:-2]])
    export.unlink()  # a source file that is gone: with --prune its records go too
    other = tmp_path / "other.jsonl"
    other.write_text(lines[EXTRA[0]] + "\n", encoding="utf-8")
    s = run_json("index", "update", other, "--prune", "--index", index, "--quiet")
    assert (s["added"], s["removed"], s["index_records"]) == (1, 18, 1)
    assert current_ids(index) == ids_of([lines[EXTRA[0]]])


def test_index_update_with_skipped_records_exits_3(small, tmp_path, lines):
    index = copy_of(small, tmp_path)
    update = tmp_path / "more.jsonl"
    update.write_text(lines[EXTRA[0]] + "\n{not json\n" + json.dumps({"id": "x1", "journal": "No title or abstract"})
                      + "\n", encoding="utf-8")
    log = tmp_path / "update.log"
    s = run_json("index", "update", update, "--index", index, "--quiet", "--log-file", log, code=3)
    assert s["added"] == 1 and s["index_records"] == 21
    assert [k["record"] for k in s["skipped"]] == [2, 3]
    text = log.read_text(encoding="utf-8")
    assert "skipped" in text and str(update) in text and "21 records" in text


def test_index_update_while_another_writer_holds_the_lock_exits_75(small, tmp_path):
    """EX_TEMPFAIL at once with the default --wait 0, and the index stays as it was."""
    from index.storage.layout import IndexLayout
    from index.storage.lock import WriterLock

    index = copy_of(small, tmp_path)
    with WriterLock(IndexLayout(index).lock_file, wait=0):
        result = run("index", "update", small.source, "--index", index, "--quiet", code=75)
    assert "is being written by" in error_line(result)
    assert (index / "CURRENT").read_text().strip() == small.summary["generation"]


def test_index_build_of_nothing_readable_exits_1(shared, tmp_path):
    result = run("index", "build", shared / "fixtures" / "biopython" / "pubmed3.html", "--index", tmp_path / "idx",
                 "--quiet", code=1)
    assert "oncosearch: error:" in result.stderr
    assert not (tmp_path / "idx" / "CURRENT").exists()


def test_index_build_of_nothing_readable_says_so(shared, tmp_path):
    result = run("index", "build", shared / "fixtures" / "biopython" / "pubmed3.html", "--index", tmp_path / "idx",
                 "--quiet", code=1)
    assert "internal error" not in result.stderr and "max() arg" not in result.stderr
    assert "nothing was written" in result.stderr


def test_quiet_update_prints_nothing(small, tmp_path, lines):
    index = copy_of(small, tmp_path)
    update = tmp_path / "more.jsonl"
    update.write_text(lines[EXTRA[0]] + "\n{not json\n", encoding="utf-8")
    result = run("index", "update", update, "--index", index, "--quiet", code=3)
    assert result.stdout == "" and result.stderr == ""


def test_index_build_usage_errors(tmp_path, small):
    assert "--index-type" in run("index", "build", small.source, "--index", tmp_path / "i", "--index-type", "bogus",
                                 code=2).stderr
    assert not (tmp_path / "i" / "CURRENT").exists()
    run("index", "update", "--index", tmp_path / "i", code=2)  # update needs a SOURCE


# --- help ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "example"), [
    (["search"], 'oncosearch search "CAR-T细胞治疗的安全性"'),
    (["show"], "oncosearch show 33795251"),
    (["stats"], "oncosearch stats --json"),
    (["eval"], "oncosearch eval ../shared/bench/pubmedqa"),
    (["ingest"], "oncosearch ingest exports/"),
    (["index", "build"], "oncosearch index build exports/ pubmed.xml.gz"),
    (["index", "update"], "oncosearch index update ~/exports --prune"),
    (["index", "check"], "oncosearch index check --index ./myindex"),
    (["formats"], "oncosearch formats"),
])
def test_help_shows_examples(command, example):
    out = run(*command, "--help").stdout
    flat = " ".join(out.split())
    assert "Example" in flat and example in flat
    assert "--help" in flat
