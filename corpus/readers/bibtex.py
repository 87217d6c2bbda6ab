"""BibTeX (Scopus "Export → BibTeX", Web of Science "Export → BibTeX", Zotero, Google Scholar).

Parsed with bibtexparser 2.x. Real exports trip its strictness: Scopus repeats keys inside an
entry (two 'funding_details'), which bibtexparser reports as a failed block although the entry is
fine, so such blocks are read through their ``ignore_error_block``. WoS wraps values in double
braces. LaTeX escapes are decoded only in the few fields we keep, and only when a value holds a
backslash: decoding every field of a 2 MB Scopus file with pylatexenc takes ~13 s. A value whose only
commands are the escapes of LaTeX's special characters (\\%, \\&, \\textasciitilde{} ...: what
`--format bibtex` writes) is decoded exactly without it: pylatexenc would also turn a literal "--" into
a dash. An entry with an ``oncosearch-id`` field was written by `--format bibtex` and keeps that id.
Keywords are split on ';' when a value has one (MeSH headings hold commas), else on ', '.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import bibtexparser
from bibtexparser import model
from bibtexparser.middlewares.names import split_multiple_persons_names

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, year_of
from corpus.record import EXPORT_MARK, Record
from corpus.sources import InputFileError, read_text

NAME = "bibtex"

_ENTRY = re.compile(r"^\s*@\s*([A-Za-z]+)\s*[{(]", re.M)
_NON_RECORDS = {"comment", "string", "preamble"}


def sniff(path: Path, head: bytes) -> bool:
    return any(m.group(1).lower() not in _NON_RECORDS for m in _ENTRY.finditer(head_text(head)))


# The escapes of LaTeX's special characters, and bare grouping braces (dropped), in one pass.
_SPECIALS = {"\\textbackslash{}": "\\", "\\textasciitilde{}": "~", "\\textasciicircum{}": "^",
             **{f"\\{c}": c for c in "&%$#_{}"}, "{": "", "}": ""}
_SPECIAL = re.compile("|".join(re.escape(k) for k in sorted(_SPECIALS, key=len, reverse=True)))
_ID_FIELD = f"{EXPORT_MARK}-id"


def _latex(value: str) -> str:
    if "\\" in value and "\\" not in _SPECIAL.sub("", value):
        return _SPECIAL.sub(lambda m: _SPECIALS[m.group(0)], value)
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
    names = next((str(f.value) for f in map(fields.get, ("author", "editor")) if f is not None and str(f.value).strip()), "")
    # split before decoding: " and " inside braces belongs to a name ({Society for Immunotherapy and Cancer})
    authors = [a for a in (_latex(n).strip() for n in split_multiple_persons_names(names)) if a]
    keywords = [_field(fields, "keywords"), _field(fields, "author_keywords"), _field(fields, "keywords-plus")]
    keywords = [k for k in keywords if k]
    record = build(
        titles=[_field(fields, "title"), _field(fields, "translated_title", "titleaddon")],
        abstracts=[_field(fields, "abstract"), _field(fields, "translated_abstract")],
        pmid=_field(fields, "pmid", "pubmed_id", "pubmed-id") or None,
        doi=doi_of(_field(fields, "doi"), _field(fields, "url")),
        authors=authors,
        journal=_field(fields, "journal", "journaltitle", "booktitle") or None,
        year=year_of(_field(fields, "year"), _field(fields, "date")),
        keywords=split_list(keywords, _SEMICOLON if any(re.search("[;；]", k) for k in keywords) else _COMMA),
        pub_types=[entry.entry_type],
    ).with_citation(volume=_field(fields, "volume"), issue=_field(fields, "number", "issue"),
                    pages=_field(fields, "pages").replace("--", "-"))
    own_id = _field(fields, _ID_FIELD).strip()
    return replace(record, id=own_id) if own_id else record


_SEMICOLON = re.compile(r"\s*[;；]\s*")
_COMMA = re.compile(r"\s*,\s+(?=\S)")


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
