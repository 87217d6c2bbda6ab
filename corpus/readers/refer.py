"""EndNote / Refer / BibIX %-tagged text (EndNote "Export → Text", Wanfang "导出 → EndNote").

"%X value" lines, records separated by blank lines, untagged lines continue the previous value.
Wanfang puts the Chinese title in %T, the English one in %Q (translated title), the English
journal name as a second %J and the transliterated authors in %H; languages are therefore read
from the text rather than from the tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, split_tagged, tag_matcher, year_of
from corpus.record import Record
from corpus.sources import InputFileError, read_text
from corpus.text import detect_lang

NAME = "refer"

_TAG = re.compile(r"^%([^\s%]) ?(.*)$")


def sniff(path: Path, head: bytes) -> bool:
    lines = [ln for ln in head_text(head).split("\n")[:40] if ln.strip()]
    tagged = [ln for ln in lines if _TAG.match(ln)]
    return bool(lines) and _TAG.match(lines[0]) is not None and len(tagged) >= max(2, len(lines) // 2)


_match = tag_matcher(_TAG)


def _keywords(values: list[str]) -> tuple[str, ...]:
    """Wanfang joins Chinese keywords with spaces in one %K; elsewhere each %K is one keyword."""
    if len(values) == 1 and not re.search(r"[;；]", values[0]) and detect_lang(values[0]) == "zh":
        return split_list(values[0].split())
    return split_list(values)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    n = 0
    for rec in split_tagged(text, _match, blank_ends=True, joiner=" "):
        n += 1
        journals = rec.get("J", "B")
        record = build(
            titles=rec.get("T", "Q"),
            abstracts=rec.get("X"),
            doi=doi_of(*rec.get("R", "U")),
            pmid=rec.first("M") if (rec.first("M") or "").isdigit() else None,
            authors=rec.get("A") or rec.get("H"),
            journal=journals[0] if journals else None,
            year=year_of(rec.first("D"), rec.first("8")),
            keywords=_keywords(rec.get("K")),
            pub_types=rec.get("0"),
        ).with_citation(volume=rec.first("V"), issue=rec.first("N"), pages=rec.first("P"))
        yield outcome(path, rec.no, rec.line, record)
    if n == 0:
        raise InputFileError(path, "no %-tagged (Refer/EndNote) records found")
