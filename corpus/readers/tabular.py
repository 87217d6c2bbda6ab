"""Generic JSONL and CSV records.

Columns (JSONL keys or CSV header), all optional but a title or an abstract:
  id | _id            record id (kept as given; BEIR corpora use ``_id``)
  pmid, doi, journal, year
  title, abstract | text      language detected from the text
  title_zh, title_en, abstract_zh, abstract_en   explicit languages
  authors, keywords           a list, or one string separated by ';'
  volume, issue, pages        as written ("19", "3", "168-70")
A JSONL line may also hold the `Record.to_dict` shape (``title``/``abstract`` as
``{"zh": ..., "en": ...}``).
"""

from __future__ import annotations

import csv as _csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from corpus.readers import Skip
from corpus.readers._tagged import NO_TEXT
from corpus.record import LANGS, Record, make_record_id, normalise_doi
from corpus.sources import read_text
from corpus.text import clean, detect_lang, squash


def _list(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(p.strip() for p in re.split(r"[;；|]", str(value)) if p.strip())


def _per_lang(row: Mapping[str, Any], name: str, alias: str | None = None) -> dict[str, str]:
    out: dict[str, str] = {}
    value = row.get(name)
    if isinstance(value, Mapping):
        out.update({k: clean(str(v)) for k, v in value.items() if k in LANGS and v})
    elif value or (alias and row.get(alias)):
        text = clean(str(value or row.get(alias)))
        if text:
            out[detect_lang(text)] = text
    for lang in LANGS:
        v = row.get(f"{name}_{lang}")
        if v and clean(str(v)):
            out[lang] = clean(str(v))
    return out


_CITATION = ("volume", "issue", "pages")


def row_to_record(row: Mapping[str, Any]) -> Record | str:
    """One row to a Record, or why it cannot be one."""
    title = {k: squash(v) for k, v in _per_lang(row, "title").items()}
    abstract = _per_lang(row, "abstract", alias="text")
    if not abstract and not title:
        return NO_TEXT  # a title alone is enough: the record is indexed on it (and its keywords)
    pmid = str(row["pmid"]).strip() if row.get("pmid") not in (None, "") else None
    doi = normalise_doi(str(row["doi"])) if row.get("doi") else None
    year_raw = str(row.get("year") or "").strip()
    m = re.match(r"(1[89]|20)\d\d", year_raw)
    year = int(m.group(0)) if m else None
    rid = row.get("id") or row.get("_id")
    return Record(
        id=str(rid) if rid not in (None, "") else make_record_id(pmid=pmid, doi=doi, title=title, year=year),
        title=title,
        abstract=abstract,
        pmid=pmid,
        doi=doi,
        authors=_list(row.get("authors")),
        journal=squash(str(row["journal"])) if row.get("journal") else None,
        year=year,
        keywords=_list(row.get("keywords")),
        pub_types=_list(row.get("pub_types")),
    ).with_citation(**{name: str(row[name]) if row.get(name) not in (None, "") else None for name in _CITATION})


def _parse_jsonl(path: Path) -> Iterator[Record | Skip]:
    n = 0
    for lineno, line in enumerate(read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        n += 1
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            yield Skip(str(path), n, f"invalid JSON: {e.msg} at column {e.colno}", lineno)
            continue
        if not isinstance(row, dict):
            yield Skip(str(path), n, "line is JSON but not an object", lineno)
            continue
        rec = row_to_record(row)
        yield Skip(str(path), n, rec, lineno) if isinstance(rec, str) else rec


def _parse_csv(path: Path) -> Iterator[Record | Skip]:
    text = read_text(path)
    # The header names the delimiter; quoting is Excel's (RFC 4180). csv.Sniffer guessed from whole rows
    # and misread abstracts full of commas, semicolons and quotes as other dialects.
    header = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=header.count)
    # the csv module splits the rows itself: a quoted cell keeps its line breaks (splitlines would lose them)
    reader = _csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not fields & {"abstract", "text", "abstract_zh", "abstract_en"}:
        from corpus.sources import InputFileError

        raise InputFileError(path, f"CSV header has no abstract/text column (columns: {', '.join(sorted(fields))})")
    try:
        for n, row in enumerate(reader, 1):
            row = {(k or "").strip().lower(): _unguard(v) for k, v in row.items()}
            rec = row_to_record(row)
            yield Skip(str(path), n, rec, reader.line_num) if isinstance(rec, str) else rec
    except _csv.Error as e:
        yield Skip(str(path), None, f"CSV error at line {reader.line_num}: {e}", reader.line_num)


def _unguard(value: Any) -> Any:
    """A cell without the apostrophe Excel (and our CSV export) puts before text that starts like a formula."""
    return value[1:] if isinstance(value, str) and value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def _sniff_jsonl(path: Path, head: bytes) -> bool:
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return first == b"{" or path.suffix.lower() in (".jsonl", ".ndjson")


def _sniff_csv(path: Path, head: bytes) -> bool:
    if path.suffix.lower() in (".csv", ".tsv"):
        return True
    first_line = head.split(b"\n", 1)[0].decode("utf-8", "ignore").lower()
    return bool(re.search(r"(^|[,\t;])\s*\"?(abstract|text)\"?\s*([,\t;]|$)", first_line))


jsonl = SimpleNamespace(NAME="jsonl", sniff=_sniff_jsonl, parse=_parse_jsonl)
csv = SimpleNamespace(NAME="csv", sniff=_sniff_csv, parse=_parse_csv)
