"""RefWorks tagged format (RefWorks "Export → RefWorks Tagged", also offered by CNKI).

"TAG value" lines, a record starts at RT and ends at a blank line. Exports from RefWorks itself
may begin with a tag legend ("RT=Reference Type" ...), which is not a record and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, split_tagged, tag_matcher, year_of
from corpus.record import Record, page_range
from corpus.sources import InputFileError, read_text

NAME = "refworks"

_TAG = re.compile(r"^([A-Z][A-Z0-9]{1,4}) (.*)$")


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head)
    return bool(re.search(r"^RT \S", text, re.M)) and bool(re.search(r"^(A1|T1|SR|AB|YR) ", text, re.M))


_match = tag_matcher(_TAG)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    # Drop everything before the first record (the optional tag legend).
    m = re.search(r"^RT \S", text, re.M)
    offset = text[: m.start()].count("\n") if m else 0
    body = text[m.start():] if m else ""
    n = 0
    for rec in split_tagged(body, _match, start=("RT",), blank_ends=True, joiner=" "):
        n += 1
        record = build(
            titles=rec.get("T1", "OT"),
            abstracts=rec.get("AB"),
            pmid=rec.first("PMID"),
            doi=doi_of(*rec.get("DO", "LK", "UL")),
            authors=split_list(rec.get("A1", "AU")),
            journal=rec.first("JF", "JO", "T2"),
            year=year_of(rec.first("YR"), rec.first("FD")),
            keywords=split_list(rec.get("K1")),
            pub_types=rec.get("RT"),
        ).with_citation(volume=rec.first("VO"), issue=rec.first("IS"), pages=page_range(rec.first("SP"), rec.first("OP")))
        yield outcome(path, rec.no, rec.line + offset, record)
    if n == 0:
        raise InputFileError(path, "no RefWorks records (an 'RT ' line) found")
