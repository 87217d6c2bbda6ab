"""The one record type every reader produces and every index stores."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Record:
    """One paper's abstract, possibly in both languages.

    Text fields are keyed by language (``title["zh"]``, ``abstract["en"]``) so that a
    bilingual paper is one record rather than two that must be matched up later.
    """

    id: str
    title: Mapping[str, str] = field(default_factory=dict)
    abstract: Mapping[str, str] = field(default_factory=dict)
    pmid: str | None = None
    doi: str | None = None
    authors: tuple[str, ...] = ()
    journal: str | None = None
    year: int | None = None
    keywords: tuple[str, ...] = ()
    pub_types: tuple[str, ...] = ()
    source: str = ""

    @property
    def langs(self) -> tuple[str, ...]:
        """Languages that carry a title or an abstract, in canonical order."""
        return tuple(lang for lang in LANGS if self.title.get(lang) or self.abstract.get(lang))

    def text(self, lang: str) -> str:
        """Title and abstract of one language joined, the unit a document vector embeds."""
        parts = [self.title.get(lang, ""), self.abstract.get(lang, "")]
        return "\n".join(p for p in parts if p)

    def has_abstract(self) -> bool:
        return any(v.strip() for v in self.abstract.values())

    def with_source(self, source: str) -> Record:
        return replace(self, source=source)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (the JSONL reader reads this shape back)."""
        return {
            "id": self.id,
            "title": dict(self.title),
            "abstract": dict(self.abstract),
            "pmid": self.pmid,
            "doi": self.doi,
            "authors": list(self.authors),
            "journal": self.journal,
            "year": self.year,
            "keywords": list(self.keywords),
            "pub_types": list(self.pub_types),
            "source": self.source,
        }


_SPACE = re.compile(r"\s+")


def normalise_doi(doi: str | None) -> str | None:
    """Lower-case DOI without resolver prefix: DOIs are case-insensitive by definition."""
    if not doi:
        return None
    doi = doi.strip()
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.I)
    return doi.lower() or None


def make_record_id(
    *, pmid: str | None = None, doi: str | None = None, title: Mapping[str, str] | None = None,
    year: int | None = None,
) -> str:
    """Stable id: PMID, else DOI, else a hash of the normalised title and year.

    Stable across runs and machines so that a nightly re-index recognises the same paper.
    """
    if pmid:
        return f"pmid:{pmid.strip()}"
    doi = normalise_doi(doi)
    if doi:
        return f"doi:{doi}"
    key = " ".join(_SPACE.sub(" ", (title or {}).get(lang, "")).strip().lower() for lang in LANGS)
    digest = hashlib.sha1(f"{key}|{year or ''}".encode()).hexdigest()[:16]
    return f"h:{digest}"
