"""BibTeX (Scopus "Export → BibTeX", Web of Science "Export → BibTeX", Zotero, Google Scholar).

Parsed with bibtexparser 2.x. Real exports trip its strictness: Scopus repeats keys inside an
entry (two 'funding_details'), which bibtexparser reports as a failed block although the entry is
fine, so such blocks are read through their ``ignore_error_block``. WoS wraps values in double
braces. LaTeX escapes are decoded only in the few fields we keep, and only when a value holds a
backslash: decoding every field of a 2 MB Scopus file with pylatexenc takes ~13 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import bibtexparser
from bibtexparser import model

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, year_of
from corpus.record import Record
from corpus.sources import InputFileError, read_text

NAME = "bibtex"

_ENTRY = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]", re.M)
_NON_RECORDS = {"comment", "string", "preamble"}


def sniff(path: Path, head: bytes) -> bool:
    return any(m.group(1).lower() not in _NON_RECORDS for m in _ENTRY.finditer(head_text(head)))


def _latex(value: str) -> str:
    if "\\" in value:
        try:
            from pylatexenc.latex2text import LatexNodes2Text

            return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True).latex_to_text(value)
        except Exception:  # malformed LaTeX: keep the raw text rather than lose the record
            pass
    return value.replace("{", "").replace("}", "")


def _field(fields: dict, *names: str) -> str:
    for name in names:
        f = fields.get(name)
        if f is not None and str(f.value).strip():
            return _latex(str(f.value))
    return ""


def _record(entry: model.Entry) -> Record:
    fields = {k.lower().strip(): f for k, f in entry.fields_dict.items()}
    authors = [a.strip() for a in re.split(r"\s+and\s+", _field(fields, "author", "editor")) if a.strip()]
    keywords = [_field(fields, "keywords"), _field(fields, "author_keywords"), _field(fields, "keywords-plus")]
    return build(
        titles=[_field(fields, "title"), _field(fields, "translated_title", "titleaddon")],
        abstracts=[_field(fields, "abstract")],
        pmid=_field(fields, "pmid", "pubmed_id", "pubmed-id") or None,
        doi=doi_of(_field(fields, "doi"), _field(fields, "url")),
        authors=authors,
        journal=_field(fields, "journal", "journaltitle", "booktitle") or None,
        year=year_of(_field(fields, "year"), _field(fields, "date")),
        keywords=split_list([k for k in keywords if k], re.compile(r"\s*[;；]\s*|\s*,\s+(?=\S)")),
        pub_types=[entry.entry_type],
    )


def parse(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    try:
        library = bibtexparser.parse_string(text)
    except Exception as e:  # bibtexparser raises plain exceptions on some broken input
        raise InputFileError(path, f"BibTeX could not be parsed: {type(e).__name__}: {e}") from None
    n = 0
    for block in library.blocks:
        if isinstance(block, model.Entry):
            entry = block
        elif isinstance(block, (model.DuplicateFieldKeyBlock, model.DuplicateBlockKeyBlock)) and isinstance(
            getattr(block, "ignore_error_block", None), model.Entry
        ):
            entry = block.ignore_error_block
        elif isinstance(block, model.ParsingFailedBlock):
            raw = (block.raw or "").lstrip()
            m = _ENTRY.match(raw)
            if m and m.group(1).lower() in _NON_RECORDS:
                continue
            n += 1
            line = (block.start_line + 1) if block.start_line is not None else None
            yield Skip(str(path), n, f"unparsable BibTeX entry: {str(block.error)[:120]}", line)
            continue
        else:
            continue
        if entry.entry_type.lower() in _NON_RECORDS:
            continue
        n += 1
        line = (entry.start_line + 1) if entry.start_line is not None else None
        yield outcome(path, n, line, _record(entry))
    if n == 0:
        raise InputFileError(path, "no BibTeX entries (@article{...}) found")
