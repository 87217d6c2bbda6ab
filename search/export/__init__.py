"""Records out to the files reference managers import: Zotero, EndNote, NoteExpress, Excel, scripts.

`export(records, fmt)` is the one entry point (the CLI's `--format`, saved-search alerts, the HTTP
server); each format lives in its own module, imported only when asked for, so that a plain search
never pays for rispy or bibtexparser. How each format keeps a bilingual record's second language is
written in that module's docstring:

| format   | module        | second-language title / abstract                       | read back by      |
|----------|---------------|--------------------------------------------------------|-------------------|
| ris      | `ris.py`      | TT (translated title) / N2                             | rispy, ours       |
| bibtex   | `bibtex.py`   | titleaddon / translated_abstract                        | bibtexparser, ours|
| csl-json | `csl_json.py` | original-title / multi._keys.abstract                   | citeproc-py, ours |
| nbib     | `nbib.py`     | PubMed's own: English in TI/AB, Chinese in TT/OAB      | ours (nbib)       |
| csv      | `csv.py`      | one column per language (title_zh, title_en, ...)      | csv, ours         |
| jsonl    | `jsonl.py`    | `Record.to_dict`, as our JSONL reader takes it back     | json, ours        |
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from corpus.record import Record
from search.errors import QueryError

FORMATS = ("ris", "bibtex", "csl-json", "nbib", "csv", "jsonl")
# The file name ending each format is usually given (what Zotero/EndNote/NoteExpress look for).
EXTENSIONS = {"ris": ".ris", "bibtex": ".bib", "csl-json": ".json", "nbib": ".nbib", "csv": ".csv", "jsonl": ".jsonl"}


def export(records: Sequence[Record], fmt: str) -> str:
    """The records as the text of one `fmt` file (CSV starts with a UTF-8 BOM: write it as UTF-8).

    Raises `QueryError` for a format not in `FORMATS`.
    """
    if fmt not in FORMATS:
        raise QueryError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return import_module(f"search.export.{fmt.replace('-', '_')}").write(records)
