"""Scopus CSV ("Export → CSV", all information).

Scopus names its columns its own way ("Source title", "Author Keywords", "PubMed ID") and writes
"[No abstract available]" instead of leaving the abstract empty, so it gets its own reader ahead
of the generic CSV one, which would miss the journal, keywords and PMID.
"""

from __future__ import annotations

import csv as _csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, year_of
from corpus.record import Record, page_range
from corpus.sources import InputFileError, read_text

NAME = "scopus-csv"

_csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # the References column of a review is huge


def sniff(path: Path, head: bytes) -> bool:
    first = head_text(head).split("\n", 1)[0]
    return "Source title" in first and "Title" in first and ("EID" in first or "Link" in first)


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path).lstrip("\ufeff")
    reader = _csv.DictReader(text.split("\n") if "\n" in text else [text])
    names = [(f or "").strip().lstrip("\ufeff") for f in reader.fieldnames or []]
    if "Title" not in names:
        raise InputFileError(path, f"not a Scopus CSV: no 'Title' column (columns: {', '.join(names[:12])})")
    reader.fieldnames = names
    n = 0
    try:
        for row in reader:
            n += 1
            row = {k: (v or "") for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
            abstract = row.get("Abstract", "")
            if re.fullmatch(r"\s*\[No abstract available\]\s*", abstract):
                abstract = ""
            # Older exports: "Phillips J.C., Braun R."; newer ones: "Phillips, J.C.; Braun, R.".
            raw_authors = row.get("Authors", "")
            authors = [a for a in re.split(r"\s*;\s*" if ";" in raw_authors else r"\s*,\s*", raw_authors) if a.strip()]
            if "[No author name available]" in row.get("Authors", ""):
                authors = []
            record = build(
                titles=[row.get("Title", "")],
                abstracts=[abstract],
                pmid=row.get("PubMed ID") or None,
                doi=doi_of(row.get("DOI")),
                authors=authors,
                journal=row.get("Source title") or None,
                year=year_of(row.get("Year")),
                keywords=split_list([row.get("Author Keywords", ""), row.get("Index Keywords", "")]),
                pub_types=[row.get("Document Type", "")],
            ).with_citation(volume=row.get("Volume"), issue=row.get("Issue"),
                            pages=page_range(row.get("Page start"), row.get("Page end")) or row.get("Art. No."))
            yield outcome(path, n, reader.line_num, record)
    except _csv.Error as e:
        yield Skip(str(path), n + 1, f"CSV error at line {reader.line_num}: {e}", reader.line_num)
    if n == 0:
        raise InputFileError(path, "Scopus CSV has a header but no rows")
