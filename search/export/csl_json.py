"""CSL-JSON, the Citation Style Language's data format (Zotero and Juris-M import it; pandoc and every
CSL processor render it).

Plain JSON, so no library is needed to write it; citeproc-py renders a bibliography from it in the
tests (APA, GB/T 7714), the check that a CSL processor takes our items as we mean them.

- Title: ``title`` in the paper's own language, ``original-title`` the other. That is the Chinese
  Zotero community's convention for a Chinese paper's English title (the CNKI and Weipu
  translators write it; the GB/T 7714 bilingual styles print it). Other styles read it as "the
  title of the original", APA for one printing "(Original work published as ...)".
- Abstract: ``abstract`` in the paper's own language; CSL has no variable for a translated abstract,
  so the other language goes in citeproc-js's multilingual form ``multi._keys.abstract.<lang>``,
  which Juris-M reads and other processors skip.
- Authors: ``{"family", "given"}`` for a "Family, Given" name, ``{"literal"}`` for any other (a
  Chinese name, or "Smith John" from PubMed XML, whose order we cannot know).
- ``container-title``, ``issued``, ``volume``, ``issue``, ``page``, ``DOI``, ``PMID``, ``keyword``
  (";"-joined: MeSH headings hold commas), ``language`` (zh-CN / en-US: the tag Chinese styles switch
  on for 等 / et al.).
- ``id`` is the record id and ``source`` says oncosearch (Zotero's library catalog), so that our
  CSL-JSON reader takes the id back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from corpus.record import EXPORT_MARK, Record
from search.export.fields import first_and_second, joined_keywords, lang_order, language_tag


def _name(name: str) -> dict[str, str]:
    family, _, given = name.partition(",")
    return {"family": family.strip(), "given": given.strip()} if given.strip() else {"literal": name}


def item(record: Record) -> dict[str, Any]:
    """One record as a CSL-JSON item."""
    order = lang_order(record)
    title, original_title = first_and_second(record.title, order)
    with_abstract = [lang for lang in order if record.abstract.get(lang)]
    abstract = record.abstract[with_abstract[0]] if with_abstract else None
    other = {lang: record.abstract[lang] for lang in with_abstract[1:]}
    fields: dict[str, Any] = {
        "id": record.id,
        "type": "article-journal",
        "title": title,
        "original-title": original_title,
        "author": [_name(a) for a in record.authors],
        "container-title": record.journal,
        "issued": {"date-parts": [[record.year]]} if record.year else None,
        "volume": record.volume,
        "issue": record.issue,
        "page": record.pages,
        "DOI": record.doi,
        "PMID": record.pmid,
        "abstract": abstract,
        "multi": {"_keys": {"abstract": other}} if other else None,
        "keyword": joined_keywords(record.keywords),
        "language": language_tag(record),
        "source": EXPORT_MARK,
    }
    return {key: value for key, value in fields.items() if value}


def write(records: Sequence[Record]) -> str:
    return json.dumps([item(r) for r in records], ensure_ascii=False, indent=2) + "\n"
