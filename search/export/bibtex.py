"""BibTeX / BibLaTeX (Zotero, JabRef, LaTeX with biber), UTF-8.

Written with bibtexparser 2 (already our BibTeX reader's library): its model and writer lay out the
entries, and its parser is the independent check of ours in the tests.

- Title: ``title`` in the paper's own language, in braces so that no style lower-cases "CAR-T";
  ``titleaddon`` holds the other language (BibLaTeX prints it after the title, the bilingual look of
  GB/T 7714; plain BibTeX ignores it; Zotero keeps it in Extra).
- Abstract: ``abstract`` and ``translated_abstract`` (BibTeX has no field for a translated
  abstract; styles never print abstracts, so a plain name that says what it holds).
- Authors: " and "-joined; a name without a comma ("Smith John", "柯洪琴") is braced, so BibTeX
  never turns it round into given name "Smith", family "John".
- ``journal``, ``year``, ``volume``, ``number`` (the issue), ``pages`` ("168--170"), ``doi``
  (verbatim), ``pmid``, ``keywords`` (";"-joined: MeSH headings hold commas), ``language`` (zh-CN / en-US).
- The entry key is the record id made safe for BibTeX; ``oncosearch-id`` holds it exactly and tells
  our reader that the file is ours.
- LaTeX's special characters are escaped (\\%, \\&, \\_, \\textasciitilde{} ... and "-{}-" for a
  literal "--"), so a LaTeX run shows the text as it is; our reader undoes exactly these escapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import bibtexparser  # this module is imported only for a BibTeX export (search.export.export)
from bibtexparser import model

from corpus.record import EXPORT_MARK, Record
from search.export.fields import first_and_second, joined_keywords, lang_order, language_tag

ID_FIELD = f"{EXPORT_MARK}-id"

_ESCAPES = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            **{c: "\\" + c for c in "&%$#_{}"}}
_SPECIAL = re.compile(r"[\\~^&%$#_{}]|-(?=-)")


def tex(text: str) -> str:
    """Text as a LaTeX value: specials escaped, "--" kept as two hyphens (LaTeX would print a dash)."""
    return _SPECIAL.sub(lambda m: "-{}" if m.group(0) == "-" else _ESCAPES[m.group(0)], text)


def _author(name: str) -> str:
    return tex(name) if "," in name else "{" + tex(name) + "}"


def _key(record_id: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9:._/+-]", "_", record_id) or "record"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    taken.add(key)
    return key


def _entry(record: Record, taken: set[str]) -> model.Entry:
    order = lang_order(record)
    title, other_title = first_and_second(record.title, order)
    abstract, other_abstract = first_and_second(record.abstract, order)
    fields = {
        "author": " and ".join(_author(a) for a in record.authors),
        "title": "{" + tex(title) + "}" if title else None,
        "titleaddon": tex(other_title) if other_title else None,
        "journal": tex(record.journal) if record.journal else None,
        "year": str(record.year) if record.year else None,
        "volume": tex(record.volume) if record.volume else None,
        "number": tex(record.issue) if record.issue else None,
        "pages": "--".join(tex(part) for part in record.pages.split("-")) if record.pages else None,
        "doi": record.doi,  # verbatim for biblatex, as Zotero writes it: an escape would enter the link
        "pmid": record.pmid,
        "abstract": tex(abstract) if abstract else None,
        "translated_abstract": tex(other_abstract) if other_abstract else None,
        "keywords": tex(joined_keywords(record.keywords)) if record.keywords else None,
        "language": language_tag(record),
        ID_FIELD: tex(record.id),
    }
    return model.Entry("article", _key(record.id, taken), [model.Field(k, v) for k, v in fields.items() if v])


def write(records: Sequence[Record]) -> str:
    library = bibtexparser.Library()
    taken: set[str] = set()
    for record in records:
        library.add(_entry(record, taken))
    return bibtexparser.write_string(library)
