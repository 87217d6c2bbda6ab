"""Shared machinery for the line-tagged export formats (MEDLINE, RIS, WoS, RefWorks, Refer,
NoteExpress, CNKI E-Study).

All of them are "tag, separator, value" lines with continuation lines and some rule for where
a record starts or ends; they differ only in the tag syntax and in what the tags mean. So each
reader supplies a line matcher and a tag → field mapping, and this module does the splitting,
the language assignment and the no-text rule once, the same way for every format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from corpus.readers import Skip
from corpus.record import Record, make_record_id, normalise_doi
from corpus.sources import guess_encoding
from corpus.text import clean, detect_lang, squash


def tag_matcher(pattern: re.Pattern[str]) -> Callable[[str], tuple[str, str] | None]:
    """A line matcher for `split_tagged`: (tag, value) of a "TAG value" line, a leading BOM ignored.

    `pattern` captures the tag as group 1 and the value (possibly absent) as group 2.
    """

    def match(line: str) -> tuple[str, str] | None:
        m = pattern.match(line.lstrip("\ufeff"))
        return (m.group(1), m.group(2) or "") if m else None

    return match


def head_text(head: bytes) -> str:
    """The first bytes of a file as text, for sniffing: UTF-16 and GBK exports must sniff too."""
    enc = guess_encoding(head)
    if enc == "utf-8":
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            if e.start < len(head) - 3:
                enc = "gb18030"
    text = head.decode(enc, "ignore")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


@dataclass
class TaggedRecord:
    """One record's raw (tag, value) pairs in file order, with where it started."""

    no: int
    line: int
    fields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, *tags: str) -> list[str]:
        """All non-empty values of the given tags, in file order."""
        return [v for t, v in self.fields if t in tags and v.strip()]

    def first(self, *tags: str) -> str | None:
        for tag in tags:  # tag priority, not file order: the caller lists the better tag first
            for t, v in self.fields:
                if t == tag and v.strip():
                    return v
        return None

    def tags(self) -> set[str]:
        return {t for t, _ in self.fields}


Matcher = Callable[[str], "tuple[str, str] | None"]


def split_tagged(
    text: str,
    match: Matcher,
    *,
    start: Iterable[str] = (),
    end: Iterable[str] = (),
    ignore: Iterable[str] = (),
    blank_ends: bool = False,
    leader_starts: bool = False,
    joiner: str = "\n",
) -> Iterator[TaggedRecord]:
    """Split tagged text into records.

    ``start`` tags open a new record (closing any open one), ``end`` tags close it, ``ignore``
    tags are file headers dropped wherever they occur. With ``blank_ends`` a blank line closes a
    record; with ``leader_starts`` the first tag of the file opens a new record each time it
    recurs (CNKI exports have no end marker and differ in their first tag). A line that is no
    tag continues the previous value: exports wrap long abstracts and addresses.
    """
    start, end, ignore = set(start), set(end), set(ignore)
    current: TaggedRecord | None = None
    leader: str | None = None
    n = 0
    last_tag_ok = False
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip()
        if not line.strip():
            if blank_ends and current is not None and current.fields:
                yield current
                current = None
            last_tag_ok = False if blank_ends else last_tag_ok
            continue
        m = match(line)
        if m is None:
            if current is not None and current.fields and last_tag_ok:
                tag, value = current.fields[-1]
                cont = line.strip()
                current.fields[-1] = (tag, f"{value}{joiner}{cont}" if value else cont)
            continue
        tag, value = m
        if tag in ignore:
            last_tag_ok = False
            continue
        if leader_starts and leader is None:
            leader = tag
        opens = tag in start or (leader_starts and tag == leader)
        if opens and current is not None and current.fields:
            yield current
            current = None
        if tag in end:
            if current is not None and current.fields:
                yield current
            current = None
            last_tag_ok = False
            continue
        if current is None:
            n += 1
            current = TaggedRecord(n, lineno)
        current.fields.append((tag, value.strip()))
        last_tag_ok = True
    if current is not None and current.fields:
        yield current


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")


def year_of(*values: str | None) -> int | None:
    """The first plausible four-digit year in the first value that has one."""
    for v in values:
        m = _YEAR.search(v or "")
        if m:
            return int(m.group(1))
    return None


_DOI = re.compile(r"10\.\d{4,9}/\S+")


def doi_of(*values: str | None) -> str | None:
    """A DOI out of a field that may hold a URL, a '[doi]' suffix or several ids."""
    for v in values:
        m = _DOI.search(v or "")
        if m:
            return normalise_doi(m.group(0).rstrip(".,;"))
    return None


_SEPS = re.compile(r"\s*(?:;;|[;；]|\|\|)\s*")


def split_list(values: Iterable[str], seps: re.Pattern[str] = _SEPS) -> tuple[str, ...]:
    """Flatten repeated and ';'-joined values (CNKI writes 'a;b;', Wanfang 'a;;b'), dropping blanks."""
    out: list[str] = []
    for v in values:
        for part in seps.split(v):
            part = squash(part).strip(" ,，")
            if part and part not in out:
                out.append(part)
    return tuple(out)


def by_lang(texts: Iterable[str], one_line: bool) -> dict[str, str]:
    """Place each text under its detected language; the first text of a language wins.

    Chinese databases give the original and an English translation in separate fields, and which
    field is which varies by export, so the language is read from the text, never from the tag.
    """
    out: dict[str, str] = {}
    for t in texts:
        t = squash(t) if one_line else clean(t)
        if t:
            out.setdefault(detect_lang(t), t)
    return out


_ABSTRACT_NOISE = re.compile(r"^(?:<正>|Abstract\s*\(#br\)|\[No abstract available\]|\(#br\))\s*", re.I)


def tidy_abstract(text: str) -> str:
    """Remove export artefacts: CNKI's '<正>' marker, '(#br)' line breaks, Scopus' placeholder."""
    text = _ABSTRACT_NOISE.sub("", text.strip())
    return text.replace("(#br)", "\n")


def build(
    *,
    titles: Iterable[str],
    abstracts: Iterable[str],
    pmid: str | None = None,
    doi: str | None = None,
    authors: Iterable[str] = (),
    journal: str | None = None,
    year: int | None = None,
    keywords: Iterable[str] = (),
    pub_types: Iterable[str] = (),
) -> Record:
    """A Record from already-extracted fields, languages assigned by content."""
    title = by_lang((t.strip().strip("[]") if t.strip().endswith("]") else t for t in titles), one_line=True)
    abstract = by_lang((tidy_abstract(a) for a in abstracts), one_line=False)
    pmid = (pmid or "").strip() or None
    if pmid and not pmid.isdigit():
        m = re.search(r"\d+", pmid)
        pmid = m.group(0) if m else None
    return Record(
        id=make_record_id(pmid=pmid, doi=doi, title=title, year=year),
        title=title,
        abstract=abstract,
        pmid=pmid,
        doi=normalise_doi(doi),
        authors=tuple(a for a in (squash(x) for x in authors) if a),
        journal=squash(journal or "") or None,
        year=year,
        keywords=tuple(k for k in (squash(x) for x in keywords) if k),
        pub_types=tuple(p for p in (squash(x) for x in pub_types) if p),
    )


NO_TEXT = "no title or abstract text"


def outcome(path: Path, no: int, line: int | None, rec: Record | str) -> Record | Skip:
    """The one rule for every format: a record needs a title or an abstract to be a Record.

    A title-only record (a letter, an editorial, a comment, a CNKI entry without 摘要) is a Record:
    a researcher who exported ten papers expects ten in the index, found by their titles and
    keywords and told apart by `Record.has_abstract`. Only a record with neither is a Skip.
    """
    if isinstance(rec, str):
        return Skip(str(path), no, rec, line)
    if not has_text(rec):
        return Skip(str(path), no, NO_TEXT + ("" if rec.id.startswith("h:") else f" ({rec.id})"), line)
    return rec


def has_text(rec: Record) -> bool:
    """A title or an abstract in some language: what a record needs to be indexed."""
    return rec.has_abstract() or any(t.strip() for t in rec.title.values())
