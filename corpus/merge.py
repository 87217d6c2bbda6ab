"""Merge duplicate records that reach us from several sources.

The same paper arrives from PubMed (.nbib), Web of Science, Scopus and, for Chinese journals,
from CNKI or Wanfang with the Chinese title and abstract, while PubMed has the English ones. One
paper must be one record, bilingual where the sources together are, or search results repeat
and the Chinese and English halves never meet.

Two records are the same paper when they share a PMID, a DOI, or a normalised title in some
language (and the year, when both give one). Identifiers that disagree veto a merge: a wrong
merge loses a paper from the index, which is worse than a duplicate hit, so near-miss titles
("phase II" vs "phase III") and conflicting years stay apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from corpus.record import LANGS, Record, normalise_doi
from corpus.text import to_simplified

# Titles shorter than this (after normalisation) are too generic to identify a paper alone:
# "Editorial", "Case report", "乳腺癌".
_MIN_TITLE_KEY = {"en": 20, "zh": 8}
_NON_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class Merge:
    """``merged_id`` was folded into the record ``kept_id`` because they share ``reason``."""

    kept_id: str
    merged_id: str
    reason: str  # "pmid" | "doi" | "title"


@dataclass
class MergeResult:
    records: list[Record] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)


def title_key(title: str, lang: str) -> str | None:
    """Case, width, punctuation, spacing and script (繁/简) folded; None when too short to trust."""
    if not title:
        return None
    text = unicodedata.normalize("NFKC", title)
    if lang == "zh":
        text = to_simplified(text)
    key = _NON_WORD.sub("", text.casefold())
    return key if len(key) >= _MIN_TITLE_KEY.get(lang, 20) else None


def _title_keys(rec: Record) -> list[tuple[str, str]]:
    keys = []
    for lang in LANGS:
        k = title_key(rec.title.get(lang, ""), lang)
        if k:
            keys.append((lang, k))
    return keys


def _conflict(a: Record, b: Record, reason: str) -> bool:
    """True when identifiers or years show that a and b are different papers."""
    if a.pmid and b.pmid and a.pmid != b.pmid:
        return True
    if reason == "pmid":
        return False  # one PMID is one paper, even if a DOI was mistyped in one source
    if a.doi and b.doi and normalise_doi(a.doi) != normalise_doi(b.doi):
        return True
    if reason == "doi":
        return False
    return a.year is not None and b.year is not None and a.year != b.year


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    seen = dict.fromkeys(first)
    seen.update(dict.fromkeys(second))
    return tuple(seen)


def combine(kept: Record, other: Record) -> Record:
    """Union of two records of one paper: languages from both, the kept record's values first."""
    title = dict(kept.title)
    for lang, text in other.title.items():
        if text and not title.get(lang):
            title[lang] = text
    abstract = dict(kept.abstract)
    for lang, text in other.abstract.items():
        if text and not abstract.get(lang):
            abstract[lang] = text
    return replace(
        kept,
        title=title,
        abstract=abstract,
        pmid=kept.pmid or other.pmid,
        doi=kept.doi or other.doi,
        authors=kept.authors or other.authors,
        journal=kept.journal or other.journal,
        year=kept.year if kept.year is not None else other.year,
        volume=kept.volume or other.volume,
        issue=kept.issue or other.issue,
        pages=kept.pages or other.pages,
        keywords=_union(kept.keywords, other.keywords),
        pub_types=_union(kept.pub_types, other.pub_types),
        source=kept.source or other.source,
    )


def merge_records(records: Iterable[Record]) -> MergeResult:
    """Fold duplicates into the first record of each paper, in input order.

    Each incoming record is checked against the papers seen so far by PMID, then DOI, then
    title; the merged record's new identifiers and titles (an English title gained from PubMed)
    are indexed at once, so a third source can match through either language.
    """
    groups: list[Record] = []
    by_pmid: dict[str, int] = {}
    by_doi: dict[str, int] = {}
    by_title: dict[tuple[str, str], list[int]] = {}
    merges: list[Merge] = []

    def index(i: int) -> None:
        rec = groups[i]
        if rec.pmid:
            by_pmid.setdefault(rec.pmid, i)
        doi = normalise_doi(rec.doi)
        if doi:
            by_doi.setdefault(doi, i)
        for key in _title_keys(rec):
            slot = by_title.setdefault(key, [])
            if i not in slot:
                slot.append(i)

    for rec in records:
        candidates: list[tuple[int, str]] = []
        if rec.pmid and rec.pmid in by_pmid:
            candidates.append((by_pmid[rec.pmid], "pmid"))
        doi = normalise_doi(rec.doi)
        if doi and doi in by_doi:
            candidates.append((by_doi[doi], "doi"))
        for key in _title_keys(rec):
            candidates.extend((i, "title") for i in by_title.get(key, ()))
        target = next(((i, why) for i, why in candidates if not _conflict(groups[i], rec, why)), None)
        if target is None:
            groups.append(rec)
            index(len(groups) - 1)
            continue
        i, why = target
        merges.append(Merge(groups[i].id, rec.id, why))
        groups[i] = combine(groups[i], rec)
        index(i)
    return MergeResult(records=groups, merges=merges)
