"""MEDLINE / .nbib text (PubMed "Save → Format: PubMed", also ERIC and EndNote exports).

Tags are up to four characters padded to "TAG - "; values wrap onto lines indented by six spaces;
records are separated by blank lines (and always start with PMID- when they come from PubMed).
TT (transliterated title) and OAB (other abstract) carry the Chinese side of Chinese-journal
records, so both feed the language split. A file written by `oncosearch ... --format nbib` names each
record's id in an "OID - oncosearch: ID" line (MEDLINE's "organisation: identifier" form), which is
read back as the id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_tagged, tag_matcher, year_of
from corpus.record import EXPORT_MARK, Record, article_number, full_pages
from corpus.sources import InputFileError, read_text
from corpus.text import squash

NAME = "medline"

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,4}) *-(?: (.*))?$")  # padded to four columns, ERIC writes "ISSN - "
_SNIFF = re.compile(r"^(?:PMID|OWN |STAT|FAU |DCOM)- ", re.M)


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head)
    return bool(_SNIFF.search(text)) and not re.search(r"^TY {1,2}- ", text, re.M)


_match = tag_matcher(_TAG)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    for rec in split_tagged(text, _match, start=("PMID",), blank_ends=True, joiner=" "):
        n += 1
        abstracts = [squash(v) for v in rec.get("AB", "OAB")]
        ids = rec.get("LID", "AID")
        doi = doi_of(*[i for i in ids if "[doi]" in i]) or doi_of(*[i for i in ids if "doi" in i.lower()])
        record = build(
            titles=rec.get("TI", "TT", "BTI"),
            abstracts=abstracts,
            pmid=rec.first("PMID"),
            doi=doi,
            authors=rec.get("FAU") or rec.get("AU"),
            journal=rec.first("JT", "TA"),
            year=year_of(rec.first("DP"), rec.first("DEP"), rec.first("SO")),
            keywords=rec.get("OT") + [v.split("/")[0].lstrip("*") for v in rec.get("MH")],
            pub_types=rec.get("PT"),
        )
        pii = next((i.removesuffix("[pii]").strip() for i in ids if i.endswith("[pii]")), None)
        record = record.with_citation(volume=rec.first("VI"), issue=rec.first("IP"),
                                      pages=full_pages(rec.first("PG")) or article_number(pii))
        own_id = next((v.split(":", 1)[1].strip() for v in rec.get("OID") if v.startswith(f"{EXPORT_MARK}:")), None)
        if own_id:
            record = replace(record, id=own_id)
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no MEDLINE records (lines like 'PMID- 123') found")
