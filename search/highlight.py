"""Marking the query's terms inside a snippet, for the table shown to people.

English words are matched through the same tokenizer as BM25 (so "tumours" lights up for
"tumor"); Chinese query words and glossary expansions are matched as substrings, longest first.
"""

from __future__ import annotations

import re

from corpus.text import CJK as _CJK
from index.lexical.tokenize import tokenize
from search.query import LexicalQuery

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]*")


def spans(snippet: str, query: LexicalQuery) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) character spans of query terms in `snippet`."""
    wanted = set(query.tokens)
    found: list[tuple[int, int]] = []
    for m in _WORD.finditer(snippet):
        if len(m.group(0)) > 1 and wanted & set(tokenize(m.group(0), "en")):
            found.append(m.span())
    zh_terms = sorted({t for t in query.tokens if _CJK.search(t) and len(t) >= 2}, key=len, reverse=True)
    zh_terms += sorted({t for t in query.expansions if _CJK.search(t)}, key=len, reverse=True)
    for term in zh_terms:
        for m in re.finditer(re.escape(term), snippet):
            if not any(s < m.end() and m.start() < e for s, e in found):
                found.append(m.span())
    return sorted(found)


def rich_markup(snippet: str, query: LexicalQuery, style: str = "bold yellow") -> str:
    from rich.markup import escape

    out, last = [], 0
    for start, end in spans(snippet, query):
        out.append(escape(snippet[last:start]))
        out.append(f"[{style}]{escape(snippet[start:end])}[/{style}]")
        last = end
    out.append(escape(snippet[last:]))
    return "".join(out)
