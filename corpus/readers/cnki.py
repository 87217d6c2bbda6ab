"""CNKI E-Study (知网研学) and 自定义 (custom) exports: "Field-字段: value" lines.

E-Study records start at "DataType:"; the custom export starts each record with whichever field
comes first ("SrcDatabase-来源库:" by default), so the first tag of the file marks a record
start. There is no end marker. CNKI gives no DOI here; an English title/abstract appears as
"Title-题名 (英文)" style fields in custom exports and is placed by language like any other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, split_tagged, year_of
from corpus.record import Record
from corpus.sources import InputFileError, read_text

NAME = "cnki"

# "Title-题名: x", "DataType: 1", "Summary-摘要：x", "Title-英文题名: x"
_TAG = re.compile(r"^([A-Za-z][A-Za-z ]{1,30}?)(?:-([^\s:：]{1,12}))?\s*[:：]\s?(.*)$")
_SNIFF = re.compile(r"^(?:DataType|SrcDatabase-来源库|Title-题名|Summary-摘要)\s*[:：]", re.M)


def sniff(path: Path, head: bytes) -> bool:
    return len(_SNIFF.findall(head_text(head))) >= 2


def _match(line: str) -> tuple[str, str] | None:
    m = _TAG.match(line.lstrip("\ufeff"))
    if not m:
        return None
    name, zh = m.group(1).strip(), m.group(2) or ""
    if "英文" in zh:  # Title-英文题名, Summary-英文摘要 ...
        name += "-en"
    return name, m.group(3)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    for rec in split_tagged(text, _match, start=("DataType",), leader_starts=True, blank_ends=False):
        n += 1
        record = build(
            titles=rec.get("Title", "Title-en", "EnglishTitle"),
            abstracts=rec.get("Summary", "Abstract", "Summary-en", "EnglishAbstract"),
            doi=doi_of(*rec.get("DOI")),
            authors=split_list(rec.get("Author")),
            journal=rec.first("Source", "Journal"),
            year=year_of(rec.first("Year"), rec.first("PubTime")),
            keywords=split_list(rec.get("Keyword", "Keyword-en")),
            pub_types=rec.get("SrcDatabase"),
        ).with_citation(volume=rec.first("Roll", "Volume"), issue=rec.first("Period", "Issue"),
                        pages=rec.first("Page", "Pages"))
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no CNKI records ('DataType:' / 'Title-题名:' lines) found")
