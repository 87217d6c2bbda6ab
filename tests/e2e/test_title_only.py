"""Title-only records end to end: real exports with records that have no abstract are read whole,
indexed on title and keywords, found, filtered, marked and counted in every summary.

The index holds the real PubMed .nbib export (10 records, record 7 a Letter without abstract) and
a real CNKI NoteExpress export (15 records, 6 without 摘要: newspaper articles, a book, standards).
Built once for the module in-process (USE and MiniLM load once).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner, Result

from search.cli import app

LETTER = "33465338"  # "Changes in Treatment Behavior during the COVID-19 Pandemic among Patients at a Cancer Hospital."
BRIDGE_STANDARD = "铁路桥涵设计基本规范"  # a CNKI standard: a title and keywords, no 摘要


def run(*args, code: int = 0) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, f"exit {result.exit_code}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stdout + result.stderr
    return result


def run_json(*args, code: int = 0):
    return json.loads(run(*args, "--json", code=code).stdout)


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("ONCOSEARCH_INDEX", raising=False)


@pytest.fixture(scope="module")
def built(shared, tmp_path_factory) -> SimpleNamespace:
    nbib = shared / "fixtures" / "mrhelper" / "demo_pubmed_202101.nbib"
    cnki = shared / "fixtures" / "cnki2bibtex" / "CoverAllTest15Entries.net"
    index = tmp_path_factory.mktemp("title-only") / "idx"
    log = index.parent / "build.log"
    result = CliRunner().invoke(app, ["index", "build", str(nbib), str(cnki), "--index", str(index), "--json",
                                      "--log-file", str(log)])
    assert result.exit_code == 0, result.stderr
    return SimpleNamespace(index=index, summary=json.loads(result.stdout), log=log)


def search(built, query: str, *extra) -> list[dict]:
    return run_json("search", query, "--index", built.index, *extra)["results"]


def test_every_record_is_indexed_and_the_title_only_ones_counted(built):
    s = built.summary
    assert (s["records"], s["index_records"], s["skipped"]) == (25, 25, [])
    assert s["records_without_abstract"] == s["index_records_without_abstract"] == 7
    assert "25 records (25 added, 0 updated, 0 removed, 0 unchanged), 7 without abstract" in Path(built.log).read_text()
    assert run_json("stats", "--index", built.index)["records_without_abstract"] == 7
    check = run_json("index", "check", "--index", built.index)
    assert check["ok"] is True, check["problems"]


def test_a_title_only_record_is_found_by_its_title(built):
    (top, *_) = search(built, "treatment behavior of cancer patients during the COVID-19 pandemic")
    assert top["pmid"] == LETTER and top["has_abstract"] is False
    assert top["snippet"] == top["title_en"]  # its snippet is its title


def test_a_chinese_title_only_record_is_found_and_marked(built):
    (top, *_) = search(built, "铁路桥涵设计规范")
    assert top["title_zh"] == BRIDGE_STANDARD and top["has_abstract"] is False
    table = run("search", "铁路桥涵设计规范", "--index", built.index, "-k", "3").stdout
    assert BRIDGE_STANDARD in table and "［无摘要］" in table


def test_has_abstract_excludes_title_only_records_and_no_abstract_keeps_only_them(built):
    query = "treatment behavior of cancer patients during the COVID-19 pandemic"
    with_abstract = search(built, query, "--has-abstract", "-k", "30")
    assert with_abstract and all(r["has_abstract"] for r in with_abstract)
    assert LETTER not in {r["pmid"] for r in with_abstract} and len(with_abstract) == 18
    title_only = search(built, query, "--no-abstract", "-k", "30")
    assert len(title_only) == 7 and not any(r["has_abstract"] for r in title_only)
    assert title_only[0]["pmid"] == LETTER


def test_show_says_there_is_no_abstract(built):
    shown = run_json("show", LETTER, "--index", built.index)
    assert shown["has_abstract"] is False and shown["abstract"] == {} and "Letter" in shown["pub_types"]
    text = run("show", LETTER, "--index", built.index).stdout
    assert "[no abstract] indexed on its title and keywords" in text
