"""Alerts (search/alerts.py, search/alert_report.py, `oncosearch alert ...`) on a real index that grows.

One small index of 20 real records of the sample subset (10 CAR-T abstracts, 10 others) is built once
for the module with a copy of `built_index`'s embedding cache, so building and updating it embeds
nothing; each test works on a copy and adds 4 more records of the subset (`index update`). Every
command runs in-process through Typer's CliRunner and ends by its exit code, never by an exception.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from corpus.record import Record
from index.storage.base import Filters
from search.alert_report import html_page, markdown, md_escape, render
from search.alerts import STATE_FILE, Alert, AlertResult, AlertRun, filters_from_dict, filters_to_dict
from search.engine import Hit
from tests.search.cli_run import error_line, run

SMALL = [*range(0, 10), *range(23, 33)]  # lines of the subset: 10 CAR-T abstracts, then 10 others
EXTRA = [10, 11, 33, 34]  # the records an update brings: 2 CAR-T, 2 others
CD276 = "34052626"  # EXTRA's "Targeting CD276 by CAR-T cells induces regression of esophagus squamous cell carcinoma ..."
CD276_QUERY = "CD276 CAR-T cells esophagus squamous cell carcinoma xenograft"
HIT_KEYS = {"rank", "score", "id", "pmid", "doi", "year", "journal", "title_zh", "title_en", "snippet"}


pytestmark = pytest.mark.usefixtures("isolated_cli")  # tests/search/conftest.py


@pytest.fixture(scope="module")
def lines(sample_subset) -> list[str]:
    return sample_subset[0].read_text(encoding="utf-8").splitlines()


def ids_of(indexes: list[int], lines: list[str]) -> set[str]:
    return {json.loads(lines[i])["id"] for i in indexes}


@pytest.fixture(scope="module")
def small(tmp_path_factory, built_index, lines):
    folder = tmp_path_factory.mktemp("alerts-small")
    base = folder / "base.jsonl"
    base.write_text("".join(lines[i] + "\n" for i in SMALL), encoding="utf-8")
    grown = folder / "grown.jsonl"  # the same records and 4 more
    grown.write_text("".join(lines[i] + "\n" for i in SMALL + EXTRA), encoding="utf-8")
    index = folder / "index"
    shutil.copytree(built_index / "cache", index / "cache")  # embeddings of these very texts
    run("index", "build", base, "--index", index, "--quiet")
    return SimpleNamespace(folder=folder, base=base, grown=grown, index=index)


@pytest.fixture
def index(small, tmp_path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(small.index, target)
    return target


def update(source: Path, index: Path, *extra) -> None:
    run("index", "update", source, "--index", index, "--quiet", *extra)


def alert_json(index: Path, *args, code: int = 0) -> dict | None:
    """`alert run --format json`: the parsed report, or None when it printed nothing."""
    out = run("alert", "run", *args, "--format", "json", "--index", index, code=code).stdout
    return json.loads(out) if out else None


def reported(report: dict | None) -> dict[str, list[str]]:
    """alert name -> ids of its new records, in rank order."""
    return {a["name"]: [h["id"] for h in a["new"]] for a in (report or {}).get("alerts", [])}


def search_ids(index: Path, query: str, k: int) -> list[str]:
    out = run("search", query, "-k", k, "--index", index, "--json").stdout
    return [r["id"] for r in json.loads(out)["results"]]


# --- the promise: new records once, then nothing ---------------------------------------------------------------


def test_new_records_are_reported_exactly_once(index, small, lines):
    run("alert", "add", "everything", "tumour", "--top", 100, "--index", index)
    run("alert", "add", "cd276", CD276_QUERY, "--top", 1, "--index", index)
    run("alert", "add", "car-t", "CAR-T cell therapy", "--top", 5, "--index", index)
    run("alert", "add", "phrase", '"CD276" year:2021', "--top", 5, "--index", index)  # query syntax, as search reads it
    for _ in range(2):  # nothing entered the index yet: no output at all, exit 0
        assert run("alert", "run", "--index", index).stdout == ""

    update(small.grown, index)
    new = ids_of(EXTRA, lines)
    car_t_top5 = search_ids(index, "CAR-T cell therapy", 5)
    report = alert_json(index)
    got = reported(report)
    assert set(got["everything"]) == new and len(got["everything"]) == 4  # top 100 of 24: every new record
    assert got["cd276"] == [f"pmid:{CD276}"]  # top 1: the one record the query names
    expected = [i for i in car_t_top5 if i in new]  # top 5 of the whole index, old records left out
    assert len(expected) < 5  # old records do rank in that top 5: they were filtered, not absent
    assert got.get("car-t", []) == expected
    assert got["phrase"] == [i for i in search_ids(index, '"CD276" year:2021', 5) if i in new]
    assert f"pmid:{CD276}" in got["phrase"]
    assert set(report) == {"generated", "index", "generation", "alerts"}
    assert report["generation"] == (index / "CURRENT").read_text().strip()
    search_keys = set(json.loads(run("search", "tumour", "--index", index, "--json").stdout)["results"][0])
    assert HIT_KEYS <= search_keys
    for a in report["alerts"]:
        assert set(a) == {"name", "query", "filters", "top", "new"}
        assert all(set(h) == search_keys for h in a["new"])  # a hit as `search --json` gives it

    # a finished run never reports them again, in any format
    assert run("alert", "run", "--index", index).stdout == ""
    assert alert_json(index) is None
    update(small.grown, index)  # a new generation with the same records: nothing new
    assert run("alert", "run", "--index", index).stdout == ""


def test_markdown_report(index, small, lines):
    run("alert", "add", "cd276", CD276_QUERY, "--top", 1, "--cancer", "esophageal-cancer", "--index", index, code=0)
    update(small.grown, index)
    out = run("alert", "run", "--index", index).stdout
    assert out.startswith("# oncosearch alerts: 1 new record (")
    assert "## cd276: 1 new record" in out
    assert "--cancer esophageal-cancer" in out and "top 1" in out
    assert "1. **Targeting CD276 by CAR-T cells induces regression" in out
    assert f"[PMID {CD276}](<https://pubmed.ncbi.nlm.nih.gov/{CD276}/>)" in out
    assert "rank 1" in out


def test_survives_generation_switches_and_prune(index, lines, tmp_path):
    run("alert", "add", "everything", "tumour", "--top", 100, "--index", index)
    source = tmp_path / "exports.jsonl"  # every record's source from here on
    source.write_text("".join(lines[i] + "\n" for i in SMALL + EXTRA), encoding="utf-8")
    update(source, index)
    assert set(reported(alert_json(index))["everything"]) == ids_of(EXTRA, lines)
    # --prune drops 2 records the file no longer holds; two more switches clean old generations up
    source.write_text("".join(lines[i] + "\n" for i in SMALL[2:] + EXTRA), encoding="utf-8")
    update(source, index, "--prune")
    assert not ids_of(SMALL[:2], lines) & set(search_ids(index, "tumour", 100))
    update(source, index)
    assert (index / STATE_FILE).exists()
    assert len(list((index / "generations").iterdir())) == 2  # the first generations are gone, the state is not
    assert [a["name"] for a in json.loads(run("alert", "list", "--index", index, "--json").stdout)] == ["everything"]
    assert alert_json(index) is None  # nothing new
    # records removed and added back are not news again
    source.write_text("".join(lines[i] + "\n" for i in SMALL + EXTRA), encoding="utf-8")
    update(source, index)
    assert ids_of(SMALL[:2], lines) <= set(search_ids(index, "tumour", 100))
    assert alert_json(index) is None


def test_dry_run_reports_without_marking(index, small, lines):
    run("alert", "add", "everything", "tumour", "--top", 100, "--index", index)
    update(small.grown, index)
    first = reported(alert_json(index, "--dry-run"))
    assert set(first["everything"]) == ids_of(EXTRA, lines)
    assert reported(alert_json(index)) == first
    assert alert_json(index, "--dry-run") is None


def test_named_runs_leave_other_alerts_news_waiting(index, small, lines):
    run("alert", "add", "a", "tumour", "--top", 100, "--index", index)
    run("alert", "add", "b", "tumour", "--top", 100, "--index", index)
    update(small.grown, index)
    assert set(reported(alert_json(index, "a"))) == {"a"}
    assert alert_json(index, "a") is None
    assert set(reported(alert_json(index))) == {"b"}  # b's news waited for b's run
    assert alert_json(index) is None


def test_alert_added_after_the_update_sees_nothing_new(index, small):
    update(small.grown, index)
    run("alert", "add", "late", "tumour", "--top", 100, "--index", index)
    assert alert_json(index) is None


def test_output_file(index, small, tmp_path):
    run("alert", "add", "cd276", CD276_QUERY, "--top", 1, "--index", index)
    target = tmp_path / "out" / "today.html"
    target.parent.mkdir()
    assert run("alert", "run", "-f", "html", "-o", target, "--index", index).stdout == ""
    assert not target.exists()  # nothing new: the file is not created
    update(small.grown, index)
    assert run("alert", "run", "-f", "html", "-o", target, "--index", index).stdout == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"https://pubmed.ncbi.nlm.nih.gov/{CD276}/" in page
    assert [p.name for p in target.parent.iterdir()] == ["today.html"]  # no temp file left beside it
    before = target.stat().st_mtime_ns
    run("alert", "run", "-f", "html", "-o", target, "--index", index)
    assert target.stat().st_mtime_ns == before  # nothing new: not touched


def test_ris_report(index, small):
    run("alert", "add", "a", CD276_QUERY, "--top", 1, "--index", index)
    run("alert", "add", "b", CD276_QUERY, "--top", 2, "--index", index)
    update(small.grown, index)
    out = run("alert", "run", "-f", "ris", "--index", index).stdout
    assert out.count("TY  - ") == out.count("ER  -") == 1  # new to both alerts, once in the file
    assert f"ID  - pmid:{CD276}" in out


# --- the state under contention ------------------------------------------------------------------------------------


def test_a_busy_state_exits_75_and_list_still_reads(index, small):
    run("alert", "add", "a", "tumour", "--index", index)
    update(small.grown, index)
    holder = sqlite3.connect(index / STATE_FILE, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # what a running `alert run` holds
        line = error_line(run("alert", "run", "--index", index, code=75))
        assert "in use by another oncosearch alert command" in line and "--wait" in line
        error_line(run("alert", "add", "b", "tumour", "--index", index, code=75))
        assert "a" in run("alert", "list", "--index", index).stdout  # readers never wait (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert reported(alert_json(index))["a"]  # nothing was lost


def test_concurrent_runs_report_once(index, small, lines):
    """Two runs at once through the library: the second waits for the first's commit, then sees nothing."""
    from concurrent.futures import ThreadPoolExecutor

    from search.alerts import run_alerts

    run("alert", "add", "everything", "tumour", "--top", 100, "--index", index)
    update(small.grown, index)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda _: run_alerts(index, wait=120), range(2)))
    ids = [h.record.id for r in runs for result in r.results for h in result.new]
    assert sorted(ids) == sorted(ids_of(EXTRA, lines))


# --- add, list, remove and their errors ----------------------------------------------------------------------------


def test_add_list_remove(index):
    out = run("alert", "add", "肺癌免疫", "免疫检查点抑制剂 肺癌", "--year-from", 2020, "--therapy", "car-t",
              "--no-abstract", "--lang", "en", "--index", index).stdout
    assert out.startswith("alert 肺癌免疫 saved: '免疫检查点抑制剂 肺癌', top 20; the 20 records")
    run("alert", "add", "crs", "cytokine release syndrome", "-k", 7, "--index", index)
    listed = json.loads(run("alert", "list", "--json", "--index", index).stdout)
    assert [a["name"] for a in listed] == ["crs", "肺癌免疫"]
    assert listed[1]["filters"] == {"lang": "en", "year_from": 2020, "therapy": ["car-t"], "has_abstract": False}
    assert listed[0] | {"created": None} == {"name": "crs", "query": "cytokine release syndrome", "filters": {},
                                             "top": 7, "created": None, "last_run": None}
    table = run("alert", "list", "--index", index).stdout
    assert "--lang en --year-from 2020 --therapy car-t --no-abstract" in table and "never" in table
    run("alert", "run", "--index", index)
    assert all(a["last_run"] for a in json.loads(run("alert", "list", "--json", "--index", index).stdout))
    assert run("alert", "remove", "crs", "--index", index).stdout.strip() == "alert crs removed"
    assert [a["name"] for a in json.loads(run("alert", "list", "--json", "--index", index).stdout)] == ["肺癌免疫"]


def test_replace(index):
    run("alert", "add", "a", "tumour", "--index", index)
    line = error_line(run("alert", "add", "a", "lymphoma", "--index", index, code=1))
    assert "exists already" in line and "--replace" in line
    run("alert", "add", "a", "lymphoma", "--top", 3, "--replace", "--index", index)
    [a] = json.loads(run("alert", "list", "--json", "--index", index).stdout)
    assert (a["query"], a["top"]) == ("lymphoma", 3)


@pytest.mark.parametrize("args, code, expect", [
    (("add", "-bad", "x"), 2, None),  # an option-like name: Click refuses it
    (("add", "a b", "tumour"), 2, "alert name 'a b'"),
    (("add", "x" * 41, "tumour"), 2, "alert name"),
    (("add", "a", "   "), 2, "empty query"),
    (("add", "a", '"unclosed phrase'), 2, "unclosed quote"),
    (("add", "a", "tumour", "--lang", "fr"), 2, "--lang fr"),
    (("add", "a", "tumour", "--therapy", "astrology"), 2, "--therapy astrology"),
    (("add", "a", "tumour", "--top", 0), 2, None),
    (("remove", "nobody"), 1, "no alert named nobody"),
    (("run", "nobody"), 1, "no alert named nobody"),
    (("run", "--format", "pdf"), 2, "--format pdf: choose one of markdown, html, json, ris"),
    (("run", "-o", "/nonexistent-folder/x.md"), 1, "does not exist"),
])
def test_errors(index, args, code, expect):
    result = run("alert", *args, "--index", index, code=code)
    if expect is not None:
        assert expect in error_line(result)


def test_no_alerts_no_state(tmp_path, index):
    assert run("alert", "run", "--index", index).stdout == ""
    assert "no alerts yet" in run("alert", "list", "--index", index).stdout
    assert json.loads(run("alert", "list", "--json", "--index", index).stdout) == []
    assert not (index / STATE_FILE).exists()  # reading creates nothing
    line = error_line(run("alert", "add", "a", "tumour", "--index", tmp_path / "nothing", code=1))
    assert "no index" in line and "oncosearch index build" in line


def test_damaged_state_is_one_line(index):
    (index / STATE_FILE).write_bytes(b"not a database at all" * 100)
    line = error_line(run("alert", "list", "--index", index, code=1))
    assert "alert state" in line and "cannot be read" in line


def test_help_has_examples_in_both_languages():
    for command in ("add", "list", "remove", "run"):
        out = run("alert", command, "--help").stdout
        assert "oncosearch alert " + command in out
        assert any("\u4e00" <= ch <= "\u9fff" for ch in out), command


# --- reports and filters as data ---------------------------------------------------------------------------------


def _run_of(record: Record) -> AlertRun:
    alert = Alert("x", "a <query> & *more*", Filters(journal="J <b>", therapy=("car-t",)), 5,
                  "2024-01-01T00:00:00+00:00", 1)
    hit = Hit(2, 0.5, record, "a <snippet> & more", "en")
    return AlertRun(Path("/idx"), "g1", "2024-05-02T03:04:05+00:00", (AlertResult(alert, (hit,)), AlertResult(alert)))


def test_reports_escape_everything():
    record = Record(id="doi:10.1/a<b>", title={"en": "<script>alert(1)</script> *bold* [link](x)", "zh": "中文 & 标题"},
                    doi="10.1/a<b>\"c", journal="<i>J</i>", year=2024)
    run_ = _run_of(record)
    page = html_page(run_)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<i>J</i>" not in page and "&lt;i&gt;J&lt;/i&gt;" in page
    assert 'href="https://doi.org/10.1/a%3Cb%3E%22c"' in page
    assert "a &lt;snippet&gt; &amp; more" in page and "中文 &amp; 标题" in page
    text = markdown(run_)
    assert "\\<script\\>alert\\(1\\)\\</script\\> \\*bold\\* \\[link\\]\\(x\\)" in text
    assert "## x: 1 new record" in text and "(2024-05-02)" in text
    assert "**  \n   中文 & 标题  \n   2024 · *\\<i\\>J\\</i\\>* · " in text  # one line each, hard breaks
    assert "<code>--journal &#x27;J &lt;b&gt;&#x27; --therapy car-t</code>" in page  # as typed, quoted, escaped
    assert "(<https://doi.org/10.1/a%3Cb%3E%22c>)" in text
    assert render(AlertRun(Path("/idx"), "g1", "t", (AlertResult(run_.results[0].alert),)), "markdown") == ""
    data = json.loads(render(run_, "json"))
    assert [a["name"] for a in data["alerts"]] == ["x"]  # only alerts with news
    assert data["alerts"][0]["filters"] == {"journal": "J <b>", "therapy": ["car-t"]}
    assert md_escape("a\n  b_c") == "a b\\_c"


def test_filters_round_trip_every_field():
    filters = Filters(lang="zh", year_from=2019, year_to=2021, journal="Blood", pub_type="Review",
                      therapy=("car-t", "til"), cancer=("nsclc",), has_abstract=True, author="Zhang", pmid="1",
                      doi="10.1/x")
    data = filters_to_dict(filters)
    assert set(data) == {f for f in Filters.__dataclass_fields__}  # every field differs from its default here
    assert filters_from_dict(json.loads(json.dumps(data))) == filters
    assert filters_to_dict(Filters()) == {}
    with pytest.raises(Exception, match="not known to this version"):
        filters_from_dict({"colour": "red"})
