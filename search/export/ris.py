"""RIS, the format Zotero, EndNote and NoteExpress all import (File → Import; EndNote: Reference Manager (RIS)).

Written with rispy (the maintained RIS library for Python) rather than by hand: its tag table is the
RIS specification's, and its reader is the independent check of ours in the tests.

- Title: TI in the paper's own language, TT (RIS "translated title") in the other; EndNote keeps TT
  as Translated Title, Zotero as a note.
- Abstract: AB in the paper's own language, N2 in the other. RIS has no translated-abstract tag; N2
  is its second abstract tag (rispy: notes_abstract), which Zotero keeps as a note when AB is set
  and EndNote reads as the abstract too, so neither language is dropped. A line break inside an
  abstract becomes a wrapped line, which RIS readers (ours too) join with a space.
- Authors: one AU each, as stored. Journal: T2 (what Zotero and EndNote write). PY, VL, IS, SP/EP.
- PMID: AN with DB PubMed (EndNote's accession number). DOI: DO. Keywords: one KW each. LA: zh-CN/en-US.
- ID carries the record id and DP (database provider) says oncosearch, so that our RIS reader takes
  the id back; Zotero files DP as the library catalog.
"""

from __future__ import annotations

from collections.abc import Sequence

import rispy  # this module is imported only for an RIS export (search.export.export)

from corpus.record import EXPORT_MARK, Record
from search.export.fields import first_and_second, lang_order, language_tag, split_pages


def _entry(record: Record) -> dict:
    order = lang_order(record)
    title, translated_title = first_and_second(record.title, order)
    abstract, other_abstract = first_and_second(record.abstract, order)
    first_page, last_page = split_pages(record.pages)
    entry = {
        "type_of_reference": "JOUR",
        "title": title,
        "translated_title": translated_title,
        "authors": list(record.authors),
        "abstract": abstract,
        "notes_abstract": other_abstract,
        "secondary_title": record.journal,
        "year": str(record.year) if record.year else None,
        "volume": record.volume,
        "number": record.issue,
        "start_page": first_page,
        "end_page": last_page,
        "doi": record.doi,
        "accession_number": record.pmid,
        "name_of_database": "PubMed" if record.pmid else None,
        "keywords": list(record.keywords),
        "language": language_tag(record),
        "id": record.id,
        "database_provider": EXPORT_MARK,
    }
    return {key: value for key, value in entry.items() if value}


class _Writer(rispy.RisWriter):
    def set_header(self, count: int) -> str:
        return ""  # rispy numbers each record ("1."); no importer wants that line


def write(records: Sequence[Record]) -> str:
    return rispy.dumps([_entry(r) for r in records], implementation=_Writer)
