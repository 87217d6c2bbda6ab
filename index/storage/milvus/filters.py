"""`Filters` as a Milvus boolean expression over the records collection (evaluated by Milvus).

Each clause means what `index.storage.local.filters_sql` means over SQLite: substrings are
case-insensitive (the fields are stored lowercased, so ``like "%x%"`` on the lowered text), a
record without a year fails every year bound (Milvus, like SQL, treats a null as unknown), tags
match if any wanted one is held.
"""

from __future__ import annotations

import numpy as np

from corpus.record import normalise_doi
from index.storage.base import Filters


def literal(text: str) -> str:
    """`text` as a Milvus string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def contains(field: str, text: str) -> str:
    """`field` holds `text` (already lowercased) as a substring: ``like`` with its wildcards escaped
    (measured on milvus-lite 3.2.2: ``\\_`` and ``\\%`` match themselves)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{field} like {literal('%' + escaped + '%')}"


def filter_expression(filters: Filters | None) -> str | None:
    """The expression selecting the records that pass `filters`, or None when they restrict nothing."""
    if filters is None:
        return None
    where: list[str] = []
    if filters.journal:
        where.append(contains("journal_lc", filters.journal.lower()))
    if filters.pub_type:
        where.append(contains("pub_types_lc", filters.pub_type.lower()))
    for category, ids in (("therapy", filters.therapy), ("cancer", filters.cancer)):
        if ids:
            where.append(f"ARRAY_CONTAINS_ANY({category}, [{', '.join(literal(i) for i in ids)}])")
    if filters.lang in ("zh", "en"):
        where.append(f"has_{filters.lang} == true")
    if filters.year_from is not None:
        where.append(f"year >= {int(filters.year_from)}")
    if filters.year_to is not None:
        where.append(f"year <= {int(filters.year_to)}")
    if filters.has_abstract is not None:
        where.append(f"has_abstract == {'true' if filters.has_abstract else 'false'}")
    if filters.author:
        where.append(contains("authors_lc", filters.author.lower()))
    if filters.pmid:
        where.append(f"pmid == {literal(filters.pmid.strip())}")
    if filters.doi:
        where.append(f"doi == {literal(normalise_doi(filters.doi) or '')}")
    return " and ".join(f"({w})" for w in where) if where else None


def rowids_expression(rows: np.ndarray, field: str = "rowid") -> str:
    """The rows whose `field` is one of `rows` (an allow-list the query path narrowed further, e.g. by
    phrases; for pool vectors, their versions' serials): contiguous stretches become ranges, the rest
    one ``in`` list."""
    rows = np.unique(np.asarray(rows, dtype=np.int64))
    if len(rows) == 0:
        return f"{field} < 0"
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    runs = np.split(rows, breaks)
    ranges = [f"({field} >= {r[0]} and {field} <= {r[-1]})" for r in runs if len(r) >= 8]
    singles = [int(x) for r in runs if len(r) < 8 for x in r]
    parts = ranges + ([f"{field} in {singles}"] if singles else [])
    return " or ".join(parts)
