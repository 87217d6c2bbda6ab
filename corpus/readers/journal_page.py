"""Bilingual journal abstract pages (Chinese journal sites, e.g. the 勤云 platform).

The page text holds the Chinese title, labelled Chinese fields (作者姓名, 摘 要, 关 键 词 …),
then the English title and labelled English fields (Authors, Abstract, Keywords …). Labels carry
non-breaking or ideographic spaces ("摘\u00a0\u00a0\u00a0\u00a0要") and full- or half-width colons;
both are normalised before matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from corpus.readers import Skip
from corpus.record import Record, make_record_id, normalise_doi
from corpus.sources import InputFileError, read_text
from corpus.text import detect_lang, squash

NAME = "journal-page"

ZH_LABELS = {
    "引用本文": "cite", "作者姓名": "authors", "作者": "authors", "作者单位": "affiliation",
    "基金项目": "funding", "摘要": "abstract", "关键词": "keywords", "收稿时间": "received",
    "修稿时间": "revised", "中图分类号": "clc", "DOI": "doi", "doi": "doi",
}
EN_LABELS = {
    "Authors": "authors", "Author": "authors", "Affiliation": "affiliation", "Abstract": "abstract",
    "Keywords": "keywords", "Keyword": "keywords", "Fund": "funding", "Citation": "cite",
}
_LABEL = re.compile(r"^\s*([^:：]{1,24}?)\s*[:：]\s*(.*)$")
_GAPS = re.compile(r"[\s\u00a0\u3000]+")
_ZH_ABSTRACT = re.compile(r"摘[\s\u00a0\u3000]*要\s*[:：]")
_EN_ABSTRACT = re.compile(r"^\s*Abstract\s*[:：]", re.M)


def sniff(path: Path, head: bytes) -> bool:
    for enc in ("utf-8", "gb18030"):
        try:
            text = head.decode(enc, "ignore")
        except LookupError:  # pragma: no cover
            continue
        if _ZH_ABSTRACT.search(text) and _EN_ABSTRACT.search(text):
            return True
    return False


def _label(line: str) -> tuple[str, str, str] | None:
    """(language, field, value) when the line starts with a known label."""
    m = _LABEL.match(line)
    if not m:
        return None
    key = _GAPS.sub("", m.group(1))
    if key in ZH_LABELS:
        return "zh", ZH_LABELS[key], m.group(2).strip()
    if key in EN_LABELS:
        return "en", EN_LABELS[key], m.group(2).strip()
    return None


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(p for p in re.split(r"[;；,，、]|\s{2,}|[\u00a0\u3000]+", value) if p.strip())


def _cite(value: str) -> tuple[str | None, int | None]:
    """Journal and year from a GB/T 7714 citation '… [J]. Journal, 2024, 31(1): 1-9'."""
    m = re.search(r"\[J\]\.?\s*([^,，]+)[,，]\s*((?:19|20)\d\d)", value)
    if m:
        return m.group(1).strip(), int(m.group(2))
    return None, None


def parse(path: Path) -> Iterator[Record | Skip]:
    lines = read_text(path).split("\n")
    fields: dict[str, dict[str, str]] = {"zh": {}, "en": {}}
    titles: dict[str, str] = {}
    last_free: dict[str, str] = {}  # latest unlabelled line seen per language, a title candidate
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        labelled = _label(line)
        if labelled:
            lang, name, value = labelled
            if name in ("authors", "cite", "abstract") and lang not in titles and lang in last_free:
                titles[lang] = last_free[lang]
            fields[lang].setdefault(name, value)
            continue
        if "[J]" in line:  # the English citation line: journal and year, never a title
            fields["en"].setdefault("cite", line)
            if "en" not in titles and "en" in last_free:
                titles["en"] = last_free["en"]
            continue
        if "|" in line or line.startswith("点击") or "Copyright" in line:
            continue  # site navigation and footers
        last_free[detect_lang(line)] = line
    abstract = {lang: squash(f["abstract"]) for lang, f in fields.items() if f.get("abstract")}
    title = {lang: squash(t) for lang, t in titles.items()}
    if not abstract and not title:  # a title alone is enough: the page is indexed on it
        raise InputFileError(path, "no title and no 摘要/Abstract text found")
    journal, year = _cite(fields["zh"].get("cite", ""))
    journal_en, year_en = _cite(fields["en"].get("cite", ""))
    year = year or year_en
    if year is None:
        m = re.search(r"(?:19|20)\d\d", fields["zh"].get("received", ""))
        year = int(m.group(0)) if m else None
    doi = normalise_doi(fields["zh"].get("doi") or fields["en"].get("doi"))
    authors = _split_list(fields["zh"].get("authors", "")) or _split_list(fields["en"].get("authors", ""))
    keywords = _split_list(fields["zh"].get("keywords", "")) + _split_list(fields["en"].get("keywords", ""))
    yield Record(
        id=make_record_id(doi=doi, title=title, year=year),
        title=title,
        abstract=abstract,
        doi=doi,
        authors=authors,
        journal=journal or journal_en,
        year=year,
        keywords=keywords,
    )
