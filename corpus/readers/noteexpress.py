"""NoteExpress .net export (CNKI "导出与分析 → 导出文献 → NoteExpress", Wanfang "导出 → NoteExpress").

"{Field}: value" lines; a record starts at {Reference Type} and records are separated by blank
lines. Real CNKI files use full-width colons ("{Abstract}："), no space after the colon, CR-only
line breaks inside an address, and three ways of joining lists (';', ';;', ',', one line each).
{Translated Title}/{Translated Author} hold the English side of a Chinese record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, split_tagged, year_of
from corpus.record import Record
from corpus.sources import InputFileError, read_text

NAME = "noteexpress"

_TAG = re.compile(r"^\{([^{}\n]{1,40})\}\s*[:：]\s?(.*)$")
_AUTHOR_SEPS = re.compile(r"\s*(?:;;|[;；,，])\s*")


def sniff(path: Path, head: bytes) -> bool:
    return bool(re.search(r"^\{(Reference Type|Title)\}\s*[:：]", head_text(head), re.M))


def _match(line: str) -> tuple[str, str] | None:
    m = _TAG.match(line.lstrip("\ufeff"))
    return (m.group(1).strip(), m.group(2)) if m else None


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    # Not blank_ends: CNKI breaks addresses with stray CRs, i.e. blank lines inside a record.
    for rec in split_tagged(text, _match, start=("Reference Type",), leader_starts=True, joiner=" "):
        n += 1
        authors = split_list(rec.get("Author"), _AUTHOR_SEPS) or split_list(rec.get("Translated Author"), _AUTHOR_SEPS)
        record = build(
            titles=rec.get("Title", "Translated Title"),
            abstracts=rec.get("Abstract", "Translated Abstract"),
            doi=doi_of(*rec.get("DOI", "URL")),
            authors=authors,
            journal=rec.first("Journal", "Secondary Title", "Translated Journal"),
            year=year_of(rec.first("Year"), rec.first("Date")),
            keywords=split_list(rec.get("Keywords", "Translated Keywords")),
            pub_types=rec.get("Reference Type"),
        ).with_citation(volume=rec.first("Volume"), issue=rec.first("Issue"), pages=rec.first("Pages"))
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no NoteExpress records (a '{Reference Type}:' line) found")
