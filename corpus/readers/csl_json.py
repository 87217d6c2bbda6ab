"""CSL-JSON (Zotero "Export → CSL JSON", Mendeley, pandoc, citeproc; `oncosearch ... --format csl-json`).

A JSON array of items in the Citation Style Language's variables. Names are {family, given} or
{literal}; a Chinese name split into family and given is joined without a space (柯 + 洪琴), any
other as "family, given". The second language of a bilingual item sits where the Chinese Zotero
community puts it, ``original-title`` (the GB/T 7714 bilingual styles print it), and in
citeproc-js's multilingual form ``multi._keys.abstract`` (CSL has no variable for a translated
abstract); languages are read from the text, as for every format. An item whose ``source`` is
oncosearch was written by `--format csl-json` and keeps its ``id`` as the record id; elsewhere
``id`` is some program's own key and the id is made from the PMID, DOI or title.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from corpus.readers import Skip
from corpus.readers._tagged import build, doi_of, head_text, outcome, split_list, year_of
from corpus.record import EXPORT_MARK, Record
from corpus.sources import InputFileError, read_text
from corpus.text import CJK

NAME = "csl-json"

_CSL_KEYS = re.compile(r'"(?:issued|container-title|DOI|PMID|page)"\s*:|"(?:family|literal)"\s*:')


def sniff(path: Path, head: bytes) -> bool:
    text = head_text(head).lstrip()
    return text[:1] in ("[", "{") and bool(re.search(r'"type"\s*:\s*"', text)) and bool(_CSL_KEYS.search(text))


def _text(value: Any) -> str:
    """A string variable's text; CSL allows numbers for some ("volume": 19)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _name(person: Any) -> str:
    if not isinstance(person, Mapping):
        return ""
    literal = _text(person.get("literal"))
    if literal:
        return literal
    family, given = _text(person.get("family")), _text(person.get("given"))
    if family and given:
        return f"{family}{given}" if CJK.search(family) and CJK.search(given) else f"{family}, {given}"
    return family or given


def _year(issued: Any) -> int | None:
    if not isinstance(issued, Mapping):
        return year_of(_text(issued))
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        return year_of(_text(parts[0][0]))
    return year_of(_text(issued.get("raw")), _text(issued.get("literal")))


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _multi(item: Mapping[str, Any], variable: str) -> list[str]:
    """citeproc-js's multilingual variants of one variable: ``multi._keys[variable][lang]``."""
    keys = (item.get("multi") or {}).get("_keys") if isinstance(item.get("multi"), Mapping) else None
    variants = keys.get(variable) if isinstance(keys, Mapping) else None
    return [_text(v) for v in variants.values()] if isinstance(variants, Mapping) else []


def _keywords(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return split_list(_text(v) for v in value)
    text = _text(value)
    # ';' when the value has one (MeSH headings hold commas), else the usual ', '
    return split_list([text], re.compile(r"\s*[;；]\s*") if re.search("[;；]", text) else re.compile(r"\s*,\s*"))


def _record(item: Mapping[str, Any]) -> Record:
    record = build(
        titles=[_text(item.get("title")), _text(item.get("original-title")), *_multi(item, "title")],
        abstracts=[_text(item.get("abstract")), *_multi(item, "abstract")],
        pmid=_text(item.get("PMID")) or None,
        doi=doi_of(_text(item.get("DOI")), _text(item.get("URL"))),
        authors=[name for name in map(_name, _list(item.get("author"))) if name],
        journal=_text(item.get("container-title")) or None,
        year=_year(item.get("issued")),
        keywords=_keywords(item.get("keyword")),
        pub_types=[_text(item.get("type"))],
    ).with_citation(volume=_text(item.get("volume")), issue=_text(item.get("issue")), pages=_text(item.get("page")))
    own_id = _text(item.get("id"))
    return replace(record, id=own_id) if own_id and item.get("source") == EXPORT_MARK else record


def parse(path: Path) -> Iterator[Record | Skip]:
    try:
        data = json.loads(read_text(path).lstrip("\ufeff"))
    except json.JSONDecodeError as e:
        raise InputFileError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InputFileError(path, "CSL-JSON holds no items (an empty array)")
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            yield Skip(str(path), n, f"item is JSON {type(item).__name__}, not an object")
            continue
        yield outcome(path, n, None, _record(item))
