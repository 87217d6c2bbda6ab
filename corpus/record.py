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
    # As the source wrote them ("19", "Suppl 2", "e123"; PubMed's "113-25" written out as "113-125").
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
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

    def with_citation(self, volume: str | None = None, issue: str | None = None, pages: str | None = None) -> Record:
        """The record with its volume, issue and pages, whitespace squashed; a blank value is None."""
        return replace(self, volume=_one_line(volume), issue=_one_line(issue), pages=_one_line(pages))

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
            "volume": self.volume,
            "issue": self.issue,
            "pages": self.pages,
            "keywords": list(self.keywords),
            "pub_types": list(self.pub_types),
            "source": self.source,
        }


_SPACE = re.compile(r"\s+")

# Written by our exporters where a format names where a record came from (RIS DP, CSL-JSON `source`,
# the MEDLINE OID prefix, a BibTeX field name): only a file carrying it has its record ids read back.
EXPORT_MARK = "oncosearch"


def _one_line(value: str | None) -> str | None:
    if not value:
        return None
    return _SPACE.sub(" ", str(value)).strip() or None


def page_range(first: str | None, last: str | None) -> str | None:
    """Pages from a first-page and a last-page field ("168", "170" -> "168-170"); a first page that is
    already a range, or has no last page, is kept as it is."""
    first, last = _one_line(first), _one_line(last)
    if first and last and "-" not in first and first != last:
        return f"{first}-{last}"
    return first or last


_ABBREVIATED = re.compile(r"([A-Za-z]*)(\d+)-\1?(\d+)")


def full_pages(pages: str | None) -> str | None:
    """A page range with its last page written out: MEDLINE abbreviates "113-125" to "113-25" (Zotero
    writes it out on import too); anything else is kept as it is."""
    pages = _one_line(pages)
    m = _ABBREVIATED.fullmatch(pages or "")
    if m and len(m.group(3)) < len(m.group(2)):
        prefix, first, last = m.groups()
        last = first[: len(first) - len(last)] + last
        if int(last) > int(first):
            return f"{prefix}{first}-{prefix}{last}"
    return pages


_ARTICLE_NUMBER = re.compile(r"[A-Za-z]{0,2}\d{1,8}")


def article_number(pii: str | None) -> str | None:
    """An electronic article number (e42692, 1042) given as a publisher item identifier: it stands for
    the pages of an online-only article. A publisher's internal PII (S1080-6032(22)00139-9) does not."""
    pii = _one_line(pii)
    return pii if pii and _ARTICLE_NUMBER.fullmatch(pii) else None


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
