"""The JSON API in process (TestClient over the shared test index): the CLI's answers and keys,
errors as statuses with a message, exports as files a reference manager reads."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import rispy

from tests.conftest import CAR_T
from tests.e2e.test_search_cli import SEED_TITLE_ZH
from tests.search.cli_run import run

ZH_QUERY = "CAR-T细胞治疗的安全性"


def test_chinese_query_finds_the_seed_review_and_english_car_t(client):
    r = client.get("/api/search", params={"q": ZH_QUERY, "k": 10})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == ZH_QUERY and body["k"] == 10 and body["offset"] == 0
    assert r.headers["x-oncosearch-generation"] == body["generation"]
    assert SEED_TITLE_ZH in [h["title_zh"] for h in body["results"]]
    english = [h for h in body["results"] if h["title_en"] and CAR_T.search(h["title_en"] + h["snippet"])]
    assert len(english) >= 5


def test_search_answers_as_the_cli_does(client, built_index):
    """Same ranking, same keys: the API adds generation, k, offset and per-result marks, nothing else."""
    cli = json.loads(run("search", "PD-1 blockade in melanoma", "-k", "7", "--explain", "--json",
                         "--index", built_index).stdout)
    api = client.get("/api/search", params={"q": "PD-1 blockade in melanoma", "k": 7, "explain": "true"}).json()
    assert set(api) == set(cli) | {"generation", "k", "offset"}
    assert [h["id"] for h in api["results"]] == [h["id"] for h in cli["results"]]
    for a, c in zip(api["results"], cli["results"], strict=True):
        assert {k: v for k, v in a.items() if k != "marks"} == c


def test_marks_point_at_query_words_in_the_snippet(client):
    body = client.get("/api/search", params={"q": "cytokine release syndrome", "k": 5}).json()
    marked = [h["snippet"][s:e].lower() for h in body["results"] for s, e in h["marks"]]
    assert marked and all(any(w in m for w in ("cytokine", "release", "syndrome", "crs")) for m in marked)  # CRS: glossary


def test_pages_are_slices_of_one_ranking(client):
    whole = client.get("/api/search", params={"q": ZH_QUERY, "k": 20}).json()["results"]
    second = client.get("/api/search", params={"q": ZH_QUERY, "k": 10, "offset": 10}).json()["results"]
    assert [h["id"] for h in second] == [h["id"] for h in whole[10:20]]
    assert [h["rank"] for h in second] == list(range(11, 21))


def test_filters_and_syntax_apply(client):
    body = client.get("/api/search", params={"q": "CAR-T", "year_from": 2021, "year_to": 2021, "lang": "en",
                                             "therapy": ["car-t"], "k": 20}).json()
    assert body["results"] and all(h["year"] == 2021 for h in body["results"])
    listing = client.get("/api/search", params={"q": "year:2021 therapy:car-t", "k": 5}).json()["results"]
    assert listing and all(h["year"] == 2021 and h["score"] == 0 for h in listing)


def test_record_by_id_pmid_and_doi(client, built_index):
    seed = client.get("/api/search", params={"q": ZH_QUERY, "k": 10}).json()["results"]
    hit = next(h for h in seed if h["pmid"] and h["doi"])
    cli = json.loads(run("show", hit["id"], "--json", "--index", built_index).stdout)
    for key in (hit["id"], hit["pmid"], f"doi:{hit['doi']}", hit["doi"]):
        r = client.get(f"/api/records/{quote(key, safe='')}")
        assert r.status_code == 200, (key, r.text)
        assert r.json() == cli


def test_similar_never_returns_the_record_itself(client, built_index):
    first = client.get("/api/search", params={"q": "CD19 CAR-T lymphoma", "k": 1}).json()["results"][0]
    body = client.get(f"/api/similar/{first['id']}", params={"k": 8}).json()
    assert body["similar_to"] == first["id"] and len(body["results"]) == 8
    assert first["id"] not in [h["id"] for h in body["results"]]
    cli = json.loads(run("similar", first["id"], "-k", "8", "--json", "--index", built_index).stdout)
    assert [h["id"] for h in body["results"]] == [h["id"] for h in cli["results"]]


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "csl-json", "nbib", "csv", "jsonl"])
def test_export_of_a_query_is_the_cli_file(client, built_index, fmt):
    r = client.get("/api/export", params={"format": fmt, "q": ZH_QUERY, "k": 5})
    assert r.status_code == 200
    cli = run("search", ZH_QUERY, "-k", "5", "--format", fmt, "--index", built_index).stdout
    assert r.content.decode("utf-8").replace("\r\n", "\n") == cli.replace("\r\n", "\n")  # CSV's CRLF
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"oncosearch-CAR-T") and "filename*=UTF-8''" in disposition
    assert quote("细胞治疗") in disposition  # the Chinese name survives in filename*


def test_export_of_a_selection_reads_back_in_rispy(client):
    hits = client.get("/api/search", params={"q": ZH_QUERY, "k": 6}).json()["results"]
    chosen = [hits[0]["id"], hits[3]["id"], hits[5]["id"]]
    r = client.get("/api/export", params=[("format", "ris"), ("ids", chosen[0]), ("ids", ",".join(chosen[1:]))])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-research-info-systems")
    entries = rispy.loads(r.text)
    titles = {h["id"]: h["title_zh"] or h["title_en"] for h in hits}  # a bilingual record leads with Chinese
    assert [e.get("title") or e.get("primary_title") for e in entries] == [titles[i] for i in chosen]


def test_stats_are_the_cli_stats(client, built_index):
    cli = json.loads(run("stats", "--json", "--index", built_index).stdout)
    assert client.get("/api/stats").json() == cli


def test_healthz_names_the_generation(client, built_index):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["generation"] == (built_index / "CURRENT").read_text().strip()


@pytest.mark.parametrize(("url", "status", "words"), [
    ("/api/search?q=x&k=101", 400, "k: "),
    ("/api/search?q=x&k=0", 400, "k: "),
    ("/api/search?q=x&k=ten", 400, "valid integer"),
    ("/api/search?q=x&offset=995&k=10", 400, "depth 1000"),
    ("/api/search?q=x&offset=-1", 400, "offset"),
    ("/api/search?q=" + "a" * 1001, 400, "at most 1000"),
    ("/api/search", 400, "q: "),
    ("/api/search?q=x&lang=fr", 400, "lang"),
    ("/api/search?q=x&mode=magic", 400, "mode"),
    ("/api/search?q=x&explain=perhaps", 400, "explain"),
    ("/api/search?q=x&year_from=twenty", 400, "year_from"),
    ("/api/search?q=x&therapy=astrology", 400, "therapy astrology: not a therapy term"),
    ("/api/search?q=x&yaer_from=2020", 400, "unknown parameter yaer_from"),
    ("/api/search?q=%22unclosed", 400, "unclosed quote"),
    ("/api/search?q=%E4%B8", 400, "not UTF-8"),
    ("/api/search?q=%zz", 400, "percent-encoding"),
    ("/api/search?q=a%00b", 400, "control characters"),
    ("/api/records/no-such-record", 404, "no record with id"),
    ("/api/similar/no-such-record", 404, "no record with id"),
    ("/api/export?format=ris", 400, "either q"),
    ("/api/export?format=docx&q=x", 400, "format"),
    ("/api/export?format=ris&ids=no-such-record", 404, "no-such-record"),
    ("/api/nothing-here", 404, "no such path"),
])
def test_bad_requests_are_statuses_with_a_message(client, url, status, words):
    r = client.get(url)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] and words in body["message"], body
    assert "Traceback" not in r.text


def test_only_get(client):
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client, method)("/api/search?q=x")
        assert r.status_code == 405 and "only answers GET" in r.json()["message"]


def test_no_index_is_503_until_one_is_built(tmp_path):
    from fastapi.testclient import TestClient

    from search.server.app import create_app
    from search.server.settings import ServerSettings

    with TestClient(create_app(ServerSettings(index_dir=tmp_path / "none"))) as c:
        for url in ("/healthz", "/api/search?q=CAR-T", "/api/stats", "/api/records/1"):
            r = c.get(url)
            assert r.status_code == 503, (url, r.text)
            assert "no index at" in r.json()["message"] and "index build" in r.json()["message"]
