"""Web of Science tagged plain text ("Export → Plain text file", savedrecs.txt, .isi).

Two-letter tags at column 0, continuation lines indented by three spaces; a record runs from PT
to ER and the file is framed by FN/VR ... EF. Multi-valued fields (AU, AF) put one value on each
line, so continuation lines are kept as separate lines and split later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, split_tagged, tag_matcher, year_of
from corpus.record import Record, page_range
from corpus.sources import InputFileError, read_text
from corpus.text import squash

NAME = "wos"

_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head).lstrip()
    if text.startswith("FN ") and re.search(r"^PT ", text, re.M):
        return True
    return text.startswith("PT ") and bool(re.search(r"^(AU|TI) ", text, re.M))


_match = tag_matcher(_TAG)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    for rec in split_tagged(text, _match, start=("PT",), end=("ER",), ignore=("FN", "VR", "EF")):
        n += 1
        authors = [a for v in (rec.get("AF") or rec.get("AU")) for a in v.split("\n")]
        record = build(
            titles=[squash(t) for t in rec.get("TI")],
            abstracts=[squash(a) for a in rec.get("AB")],
            pmid=rec.first("PM"),
            doi=doi_of(rec.first("DI")),
            authors=authors,
            journal=rec.first("SO"),
            year=year_of(rec.first("PY"), rec.first("PD"), rec.first("EA")),
            keywords=split_list([squash(k) for k in rec.get("DE", "ID")]),
            pub_types=split_list(rec.get("DT")),
        ).with_citation(volume=rec.first("VL"), issue=rec.first("IS"),
                        pages=page_range(rec.first("BP"), rec.first("EP")) or rec.first("AR", "PS"))
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no Web of Science records (a 'PT ' line) found")
