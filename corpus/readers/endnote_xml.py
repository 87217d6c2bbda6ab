"""EndNote XML (EndNote "File → Export → XML", Zotero "Export → EndNote XML").

<xml><records><record>... with text wrapped in <style> runs; itertext() flattens them. Chinese
records from CNKI/Wanfang libraries carry the English title as <translated-title> or
<alt-title>; both are offered to the language split. The DOI sits in <electronic-resource-num>.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from lxml import etree

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, year_of
from corpus.record import Record
from corpus.sources import InputFileError, read_bytes
from corpus.text import squash

NAME = "endnote-xml"


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head)[:8192]
    return "<record>" in text and ("<records>" in text or "<xml>" in text) and "<ref-type" in text or (
        "<xml>" in text and "<records>" in text
    )


def _t(el: etree._Element | None) -> str:
    return "" if el is None else squash("".join(el.itertext()))


def _all(rec: etree._Element, xpath: str) -> list[str]:
    return [t for t in (_t(e) for e in rec.iterfind(xpath)) if t]


def _record(rec: etree._Element) -> Record:
    titles = _all(rec, "titles/title") + _all(rec, "titles/translated-title") + _all(rec, "titles/alt-title")
    abstracts = ["".join(e.itertext()) for e in rec.iterfind("abstract")]
    journal = (_all(rec, "periodical/full-title") or _all(rec, "titles/secondary-title")
               or _all(rec, "periodical/abbr-1") or [None])[0]
    accession = _t(rec.find("accession-num"))
    remote = _t(rec.find("remote-database-name")) + _t(rec.find("remote-database-provider"))
    pmid = accession if accession.isdigit() and ("pubmed" in remote.lower() or "nlm" in remote.lower()) else None
    return build(
        titles=titles,
        abstracts=abstracts,
        pmid=pmid,
        doi=doi_of(_t(rec.find("electronic-resource-num")), *_all(rec, "urls/related-urls/url")),
        authors=_all(rec, "contributors/authors/author"),
        journal=journal,
        year=year_of(_t(rec.find("dates/year")), _t(rec.find("dates/pub-dates/date"))),
        keywords=split_list(_all(rec, "keywords/keyword")),
        pub_types=[e.get("name", "") for e in rec.iterfind("ref-type")],
    ).with_citation(volume=_t(rec.find("volume")), issue=_t(rec.find("number")), pages=_t(rec.find("pages")))


def parse(path: Path) -> Iterator[Record | Skip]:
    data = read_bytes(path)
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = etree.parse(io.BytesIO(data), parser).getroot()
    except etree.XMLSyntaxError as e:
        raise InputFileError(path, f"malformed XML: {e.msg}") from None
    if root is None:
        raise InputFileError(path, "not XML (nothing could be parsed)")
    records = list(root.iter("record"))
    if not records:
        raise InputFileError(path, "no EndNote <record> elements found")
    for n, rec in enumerate(records, 1):
        yield outcome(path, n, rec.sourceline, _record(rec))
