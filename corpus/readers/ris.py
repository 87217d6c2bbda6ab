"""RIS (Zotero, EndNote, Mendeley, IEEE, WoS and most databases: Export → RIS).

Own parser rather than rispy so that each record keeps its line number for Skips and so that
sloppy real exports still parse: a BOM, "TY - " with one space, mixed CR/LF/CRLF, empty and
unknown tags, and values that wrap onto untagged lines. A record runs from TY to ER.
VL, IS and SP/EP give volume, issue and pages. A record whose DP (database provider) is oncosearch
was written by `--format ris` and keeps its ID as the record id; elsewhere ID is some other
program's reference number, and the id is made from the PMID, DOI or title as for any export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import (
    TaggedRecord,
    build,
    doi_of,
    head_text,
    outcome,
    split_list,
    split_tagged,
    tag_matcher,
    year_of,
)
from corpus.record import EXPORT_MARK, Record, page_range
from corpus.sources import InputFileError, read_text

NAME = "ris"

_TAG = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head)
    return bool(re.search(r"^\s*TY {1,2}- ", text, re.M)) and bool(re.search(r"^ER {1,2}-", text, re.M))


_match = tag_matcher(_TAG)


def _pmid_from_accession(rec: TaggedRecord) -> str | None:
    """AN is a PMID only when the record says it came from PubMed/MEDLINE."""
    origin = " ".join(rec.get("DP", "DB")).lower()
    an = rec.first("AN") or ""
    return an if an.isdigit() and ("pubmed" in origin or "medline" in origin or "nlm" in origin) else None


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    for rec in split_tagged(text, _match, start=("TY",), end=("ER",), joiner=" "):
        n += 1
        titles = rec.get("TI", "T1", "CT", "BT") + rec.get("TT", "ST")
        authors = rec.get("AU", "A1")
        if not authors:
            authors = rec.get("A2", "ED")
        record = build(
            titles=titles,
            abstracts=rec.get("AB", "N2"),
            pmid=rec.first("PM") or _pmid_from_accession(rec),
            doi=doi_of(*rec.get("DO", "DI", "M3", "UR", "L3", "N1")),
            authors=authors,
            journal=rec.first("JO", "T2", "JF", "JA", "J2", "J1"),
            year=year_of(rec.first("PY"), rec.first("Y1"), rec.first("DA")),
            keywords=split_list(rec.get("KW")),
            pub_types=rec.get("TY"),
        ).with_citation(volume=rec.first("VL"), issue=rec.first("IS"), pages=page_range(rec.first("SP"), rec.first("EP")))
        if EXPORT_MARK in rec.get("DP") and rec.first("ID"):
            record = replace(record, id=rec.first("ID").strip())
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no RIS records (a 'TY  - ' line) found")
