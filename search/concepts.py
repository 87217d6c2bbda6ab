"""Glossary concepts as a person names them: the ids behind ``--therapy``/``--cancer`` values and
``therapy:``/``cancer:`` query terms, resolved in this one place.

A concept may be named by its id (``car-t``) or by any of its terms in either language
(``CAR-T``, ``嵌合抗原受体T细胞``); records carry the ids as tags (index/lexical/glossary.py).
"""

from __future__ import annotations

from functools import cache

from search.errors import QueryError


@cache
def glossary():
    """The bundled glossary, loaded once per process (the query's expansions read it too)."""
    from index.lexical.glossary import Glossary

    return Glossary.load()


def concept_ids(category: str, value: str, what: str | None = None) -> list[str]:
    """The `category` ("therapy", "cancer") concept ids that `value` names: an id, or the concepts a
    term in either language names. Raises `QueryError` naming `what` (how the value was written,
    e.g. "--therapy X"; default the value) when it names none of that category."""
    g = glossary()
    key = value.strip().lower()
    concept = g.concepts.get(key)
    if concept is not None and concept.category == category:
        return [key]
    found = [cid for cid in g.find(value) if g.concepts[cid].category == category]
    if not found:
        known = sorted(cid for cid, c in g.concepts.items() if c.category == category)
        raise QueryError(f"{what or value}: not a {category} term of the glossary; known ids: "
                         f"{', '.join(known[:40])} …")
    return found
