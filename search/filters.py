"""Filter options as people and clients give them (a language, years, glossary terms in either
language) read into `Filters`: one reading for the CLI's options and the HTTP API's parameters."""

from __future__ import annotations

from collections.abc import Sequence

from index.storage import Filters
from search.concepts import concept_ids
from search.engine import LANGS
from search.errors import QueryError


def read_filters(lang: str = "any", year_from: int | None = None, year_to: int | None = None,
                 journal: str | None = None, pub_type: str | None = None, therapy: Sequence[str] = (),
                 cancer: Sequence[str] = (), has_abstract: bool | None = None, prefix: str = "--") -> Filters:
    """`Filters` for these options; `therapy` and `cancer` values are glossary ids or terms in
    either language (any of several). Raises `QueryError` naming the option as `prefix` + name
    (the CLI's "--lang", the API's "lang") for an unknown language or term."""
    if lang not in LANGS:
        raise QueryError(f"{prefix}lang {lang}: choose one of {', '.join(LANGS)}")
    return Filters(lang=lang, year_from=year_from, year_to=year_to, journal=journal or None,
                   pub_type=pub_type or None, therapy=_tags("therapy", therapy, prefix),
                   cancer=_tags("cancer", cancer, prefix), has_abstract=has_abstract)


def _tags(category: str, values: Sequence[str] | None, prefix: str) -> tuple[str, ...]:
    """Glossary concept ids for values given as ids or as terms (`search.concepts.concept_ids`)."""
    return tuple(dict.fromkeys(i for value in values or () if value.strip()
                               for i in concept_ids(category, value, f"{prefix}{category} {value}")))
