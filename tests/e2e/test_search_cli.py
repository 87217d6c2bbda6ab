"""The whole product path through the CLI, on real abstracts: build, search, show, stats, errors."""

from __future__ import annotations

import json

import pytest

from tests.conftest import CAR_T, run_cli, run_json

SEED_TITLE_ZH = "肿瘤免疫细胞治疗:前景与挑战"


def search(index, query, *extra):
    return run_json("search", query, "--index", str(index), *extra)


def test_chinese_query_finds_seed_review_and_english_car_t(built_index):
    out = search(built_index, "CAR-T细胞治疗的安全性")
    titles_zh = [r["title_zh"] for r in out["results"]]
    assert SEED_TITLE_ZH in titles_zh
    english_car_t = [r for r in out["results"] if r["title_en"] and CAR_T.search(r["title_en"] + " " + r["snippet"])]
    assert len(english_car_t) >= 5, out


@pytest.mark.parametrize(
    ("query", "pmid"),
    [
        ("mesothelin-targeted CAR T cells against ovarian carcinoma", "33795251"),
        ("blocking TNF-alpha and IL-1beta to reduce CRS and neurotoxicity after CAR-T infusion", "34093519"),
        ("infections in patients receiving CAR-T cells", "33249873"),
    ],
)
def test_english_query_finds_its_abstract_first(built_index, query, pmid):
    out = search(built_index, query, "-k", "5")
    assert out["results"][0]["pmid"] == pmid, [r["pmid"] for r in out["results"]]


def test_json_keeps_its_keys(built_index):
    out = search(built_index, "CAR T cells for leukemia", "-k", "3")
    assert set(out) == {"query", "results"}
    assert out["query"] == "CAR T cells for leukemia"
    assert len(out["results"]) == 3
    for i, r in enumerate(out["results"], 1):
        assert set(r) == {"rank", "score", "id", "pmid", "doi", "year", "journal", "title_zh", "title_en", "snippet",
                          "has_abstract"}
        assert r["rank"] == i
    scores = [r["score"] for r in out["results"]]
    assert scores == sorted(scores, reverse=True)


def test_snippet_is_an_abstract_sentence_not_the_title(built_index):
    out = search(built_index, "mesothelin CAR T cells ovarian cancer", "-k", "1")
    hit = out["results"][0]
    assert hit["snippet"] and hit["snippet"] != hit["title_en"]


def test_year_filter_applies_before_ranking(built_index):
    out = search(built_index, "CAR-T cell therapy", "--year-to", "2019")
    assert out["results"], "a narrow filter must still return the matching records"
    assert all(r["year"] is not None and r["year"] <= 2019 for r in out["results"])
    assert "31845217" in [r["pmid"] for r in out["results"]]  # the 2019 CAR-T review
    later = search(built_index, "CAR-T cell therapy", "--year-from", "2021", "-k", "20")
    assert all(r["year"] >= 2021 for r in later["results"])


def test_language_filter(built_index):
    out = search(built_index, "immune cell therapy", "--lang", "zh")
    assert [r["title_zh"] for r in out["results"]] == [SEED_TITLE_ZH]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical", "english"])
def test_every_mode_ranks_the_obvious_answer_first(built_index, mode):
    out = search(built_index, "Mesothelin-specific CAR T cells target ovarian cancer", "--mode", mode, "-k", "3")
    assert out["results"][0]["pmid"] == "33795251"


def test_explain_shows_each_leg(built_index):
    out = search(built_index, "CD19 CAR-T relapse after allogeneic transplant", "--explain", "-k", "3")
    legs = out["results"][0]["explain"]
    assert set(legs) == {"dense", "lexical", "english"}
    assert all(legs[leg]["rank"] >= 1 for leg in legs)


def test_table_output_for_people(built_index):
    proc = run_cli("search", "CAR-T细胞治疗的安全性", "--index", str(built_index), "-k", "3")
    assert proc.returncode == 0, proc.stderr
    assert "Results for: CAR-T细胞治疗的安全性" in proc.stdout
    assert "score" in proc.stdout


def test_show_by_pmid_and_unknown_id(built_index):
    rec = run_json("show", "33795251", "--index", str(built_index))
    assert rec["pmid"] == "33795251" and "Mesothelin" in rec["title"]["en"]
    proc = run_cli("show", "no-such-id", "--index", str(built_index))
    assert proc.returncode == 1
    assert "no record" in proc.stderr and "Traceback" not in proc.stderr


def test_show_bilingual_seed(built_index):
    out = search(built_index, "肿瘤免疫细胞治疗 前景与挑战", "-k", "1")
    rec = run_json("show", out["results"][0]["id"], "--index", str(built_index))
    assert set(rec["title"]) == {"zh", "en"} and set(rec["abstract"]) == {"zh", "en"}
    assert rec["year"] == 2024 and rec["journal"] == "中国肿瘤生物治疗杂志"


def test_stats(built_index, sample_subset):
    info = run_json("stats", "--index", str(built_index))
    assert info["records"] == len(sample_subset[1]) + 1
    assert info["records_bilingual"] == 1 and info["records_zh"] == 1
    assert info["dimension"] == 512 and info["model_id"].startswith("use-m-v3")


def test_no_index_yet_says_how_to_build(tmp_path):
    proc = run_cli("search", "CAR-T", "--index", str(tmp_path / "none"))
    assert proc.returncode == 1
    assert "oncosearch index build" in proc.stderr and "Traceback" not in proc.stderr


def test_empty_query_is_a_usage_error(built_index):
    proc = run_cli("search", "   ", "--index", str(built_index))
    assert proc.returncode == 2 and "empty query" in proc.stderr


def test_other_model_is_refused(built_index, tmp_path):
    from tests.index.models.test_models import tiny_sentence_transformer

    model_dir = tiny_sentence_transformer(tmp_path / "tiny")
    proc = run_cli("search", "CAR-T", "--index", str(built_index), "--model", str(model_dir))
    assert proc.returncode == 1
    assert "built with use-m-v3" in proc.stderr and "Traceback" not in proc.stderr


def test_help_explains_options_with_examples():
    proc = run_cli("search", "--help")
    assert proc.returncode == 0
    for option in ("--lang", "--year-from", "--year-to", "--json", "--mode", "--explain", "--index"):
        assert option in proc.stdout
    assert "Examples" in proc.stdout


def test_ingest_reports_skips_with_exit_code(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A", "abstract": "An abstract about CAR-T cells in lymphoma."}\n{not json\n'
                   '{"title": "No abstract here"}\n{"journal": "Neither title nor abstract"}\n', encoding="utf-8")
    proc = run_cli("ingest", str(bad), "--json")
    assert proc.returncode == 3, proc.stderr
    out = json.loads(proc.stdout)
    assert out["records"] == 2 and out["records_without_abstract"] == 1 and len(out["skipped"]) == 2
    assert {s["record"] for s in out["skipped"]} == {2, 4}
    assert all(s["file"] == str(bad) for s in out["skipped"])
