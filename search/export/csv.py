"""CSV for Excel and WPS (and pandas): one row per record, one column per field and language.

UTF-8 with a byte-order mark, which is what makes Excel on Windows open Chinese text intact
instead of as GBK mojibake; rows end in CRLF as Excel writes them. Lists (authors, keywords,
publication types) are "; "-joined. Titles and abstracts have a column per language (title_zh,
title_en, abstract_zh, abstract_en), so a bilingual record keeps both and our CSV reader needs no
language detection to put them back. A cell that Excel would run as a formula (one starting with
=, +, - or @) is prefixed with an apostrophe, Excel's own "this is text" mark, which our CSV reader
removes again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from corpus.record import Record
from search.export.fields import language_tag

COLUMNS = ("id", "pmid", "doi", "title_zh", "title_en", "authors", "journal", "year", "volume", "issue", "pages",
           "keywords", "language", "pub_types", "abstract_zh", "abstract_en")
FORMULA_STARTS = ("=", "+", "-", "@")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(record: Record) -> list[str]:
    values = {
        "id": record.id, "pmid": record.pmid, "doi": record.doi,
        "title_zh": record.title.get("zh"), "title_en": record.title.get("en"),
        "authors": "; ".join(record.authors), "journal": record.journal, "year": record.year,
        "volume": record.volume, "issue": record.issue, "pages": record.pages,
        "keywords": "; ".join(record.keywords), "language": language_tag(record),
        "pub_types": "; ".join(record.pub_types),
        "abstract_zh": record.abstract.get("zh"), "abstract_en": record.abstract.get("en"),
    }
    return [_cell(values[c]) for c in COLUMNS]


def write(records: Sequence[Record]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(_row(r) for r in records)
    return "\ufeff" + out.getvalue()
