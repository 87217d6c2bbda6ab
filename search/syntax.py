"""Query syntax: exact phrases, excluded words and field terms, read out of the text a person types.

    "cytokine release syndrome" -review year:2020-2023 tocilizumab
    “细胞因子释放综合征” therapy:car-t lang:zh 托珠单抗

- ``"exact phrase"`` (also Chinese ``“…”`` and ``「…」``): the record's title or abstract holds it;
- ``-word``, ``-"phrase"``, ``NOT word``: records holding it are left out;
- field terms: ``author:`` ``journal:`` ``year:2019`` / ``year:2019-2022`` ``pmid:`` ``doi:``
  ``lang:zh|en`` ``therapy:car-t`` ``cancer:lymphoma``; a value with spaces is quoted
  (``author:"Zhang Wei"``, ``journal:“Nature Medicine”``);
- the free text left over is what the legs rank.

Ordinary text stays ordinary text: a minus inside a word (CAR-T, anti-PD-1, 4-1BB) or alone
between words, lower-case "not", a colon after any other word ("Background:", a URL), a known name
followed by a space ("breast cancer: does it matter?", a PubMedQA question) and Chinese full-width
colons are all free text. Only ``-`` at the start of a word excludes, only upper-case ``NOT`` is the
operator, and a field term is a known name, a colon (``:`` or ``：``) and the value with no space.

A hand-written scanner rather than a grammar library: the language is flat (no nesting, no
precedence), and what matters is the exceptions above and errors that name the position (1-based,
in the text as typed) and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from corpus.record import normalise_doi
from index.lexical.tokenize import normalise
from index.storage.base import Filters
from search.concepts import concept_ids
from search.errors import QueryError

QUOTES = {'"': '"', "“": "”", "「": "」"}  # opening quote -> its closing quote
FIELDS = ("author", "journal", "year", "pmid", "doi", "lang", "therapy", "cancer")
_FIELD = re.compile(rf"({'|'.join(FIELDS)})[:：](?=\S)", re.I)  # value right after the colon
_YEAR = re.compile(r"(\d{4})(-(\d{4})?)?|-(\d{4})")  # 2019, 2019-2022, 2019- (from), -2022 (until)
_WORDY = re.compile(r"[^\W_]")  # a letter, digit or ideograph: free text worth ranking


@dataclass(frozen=True)
class ParsedQuery:
    """What a query asks for: free text to rank, and restrictions applied before ranking."""

    text: str  # the free text left over, what the legs rank ("" when only fields and phrases)
    phrases: tuple[str, ...] = ()  # each must occur in the title or abstract
    excluded: tuple[str, ...] = ()  # words and phrases that must not occur there
    filters: Filters = field(default_factory=Filters)  # the field terms


class _Scanner:
    """One pass over the text; each method reads one element at `self.i` and moves past it."""

    def __init__(self, text: str):
        self.text, self.i, self.n = text, 0, len(text)
        self.free: list[str] = []  # the free text's pieces, a space where an element was taken out
        self.phrases: list[str] = []
        self.excluded: list[str] = []
        self.values: dict[str, Any] = {}  # single-valued field -> its value, checked and converted
        self.given_at: dict[str, int] = {}  # single-valued field -> where it was given
        self.concepts: dict[str, list[str]] = {"therapy": [], "cancer": []}  # repeated: any of them
        self.found = False  # any element besides free text

    def error(self, start: int, expected: str) -> QueryError:
        """What was written from `start` to here, where, and what was expected."""
        shown = self.text[start:self.i].strip() or self.text[start:start + 1]
        return QueryError(f"{shown} at position {start + 1}: {expected}")

    def quoted(self) -> str:
        """A quoted phrase starting at an opening quote: its words, spaces collapsed."""
        t, start = self.text, self.i
        close = QUOTES[t[start]]
        end = t.find(close, start + 1)
        if end < 0:
            raise QueryError(f"unclosed quote {t[start]} at position {start + 1}: expected a closing {close} "
                             '(a phrase is written "like this" or “像这样”)')
        self.i = end + 1
        phrase = " ".join(t[start + 1:end].split())
        if not phrase:
            raise self.error(start, "expected some words between the quotes")
        return phrase

    def bare(self) -> str:
        """A word: up to the next space or opening quote."""
        t, start = self.text, self.i
        while self.i < self.n and not t[self.i].isspace() and t[self.i] not in QUOTES:
            self.i += 1
        return t[start:self.i]

    def skip_word(self) -> None:
        while self.i < self.n and not self.text[self.i].isspace():
            self.i += 1

    def exclusion(self, start: int) -> None:
        """The word or phrase at `self.i` is left out of the results (`start`: where - or NOT is)."""
        t = self.text
        if t[self.i] in QUOTES:
            self.excluded.append(self.quoted())
            return
        if _FIELD.match(t, self.i):
            self.skip_word()
            raise self.error(start, "a field cannot be excluded: give the values you want (e.g. year:2020-2023, "
                             "lang:en)")
        word = self.bare()
        if not _WORDY.search(word):
            raise self.error(start, 'expected a word or a "phrase" after NOT')
        self.excluded.append(word)

    def field(self, name: str, value_at: int) -> None:
        """A field term `name:value` starting at `self.i`, the value at `value_at`."""
        start = self.i
        self.i = value_at
        value = self.quoted() if self.text[value_at] in QUOTES else self.bare()
        if name in self.concepts:  # the glossary says what a therapy or cancer term names
            self.concepts[name] += concept_ids(name, value, f"{self.text[start:self.i]} at position {start + 1}")
            return
        if name in self.given_at:
            raise self.error(start, f"{name}: is already given at position {self.given_at[name] + 1} (one {name}: "
                             "term per query" + ("; a range is year:2019-2022)" if name == "year" else ")"))
        self.given_at[name] = start
        if name == "year":
            years = _years(value)
            if years is None:
                raise self.error(start, "expected a year (2019) or a range (2019-2022)")
            self.values[name] = years
        elif name == "pmid":
            if not re.fullmatch(r"[0-9]{1,9}", normalise(value)):
                raise self.error(start, "expected a PMID (digits, e.g. 33795251)")
            self.values[name] = normalise(value)
        elif name == "doi":
            doi = normalise_doi(value) or ""
            if not doi.startswith("10.") or "/" not in doi:
                raise self.error(start, "expected a DOI (e.g. 10.1056/NEJMoa1709866)")
            self.values[name] = doi
        elif name == "lang":
            if value.lower() not in ("zh", "en"):
                raise self.error(start, "expected zh or en")
            self.values[name] = value.lower()
        else:  # author, journal: a case-insensitive part of the name
            self.values[name] = value

    def element(self) -> bool:
        """Read an exclusion or a field term at the start of a word, if one is there."""
        t, start = self.text, self.i
        if t.startswith("NOT", start) and (start + 3 == self.n or t[start + 3].isspace()):
            self.i = start + 3
            while self.i < self.n and t[self.i].isspace():
                self.i += 1
            if self.i == self.n:
                raise self.error(start, 'expected a word or a "phrase" after NOT')
            self.exclusion(start)
            return True
        if t[start] == "-" and start + 1 < self.n and (t[start + 1] in QUOTES or _WORDY.match(t, start + 1)):
            self.i = start + 1  # ("- ", "->" and "--x" are punctuation: free text)
            self.exclusion(start)
            return True
        m = _FIELD.match(t, start)
        if m:
            self.field(m[1].lower(), m.end())
            return True
        return False

    def run(self) -> None:
        t = self.text
        while self.i < self.n:
            ch = t[self.i]
            if ch.isspace():
                self.free.append(ch)
                self.i += 1
                continue
            if (self.i == 0 or t[self.i - 1].isspace()) and self.element():
                pass
            elif ch in QUOTES:
                self.phrases.append(self.quoted())
            else:
                self.free.append(self.bare())  # at least `ch`: neither a space nor an opening quote
                continue
            self.found = True
            self.free.append(" ")  # "细胞“CAR-T”治疗": the words on either side stay apart

    def result(self) -> ParsedQuery:
        if not self.found:
            return ParsedQuery(self.text.strip())
        text = " ".join("".join(self.free).split())
        if not _WORDY.search(text):
            text = ""  # only punctuation left over: nothing to rank
        v = self.values
        year_from, year_to = v.get("year", (None, None))
        filters = Filters(lang=v.get("lang", "any"), year_from=year_from, year_to=year_to, journal=v.get("journal"),
                          author=v.get("author"), pmid=v.get("pmid"), doi=v.get("doi"),
                          therapy=tuple(dict.fromkeys(self.concepts["therapy"])),
                          cancer=tuple(dict.fromkeys(self.concepts["cancer"])))
        return ParsedQuery(text, tuple(dict.fromkeys(self.phrases)), tuple(dict.fromkeys(self.excluded)), filters)


def _years(value: str) -> tuple[int | None, int | None] | None:
    """(from, to) of 2019, 2019-2022, 2019- or -2022 (full-width digits and dashes too), or None."""
    m = _YEAR.fullmatch(normalise(value))
    if not m:
        return None
    if m[4]:
        return None, int(m[4])
    first, last = int(m[1]), int(m[3]) if m[3] else None
    if not m[2]:
        return first, first
    if last is not None and last < first:
        return None
    return first, last


def parse(text: str) -> ParsedQuery:
    """Read phrases, exclusions and field terms out of `text`; the rest is free text.

    Text without any of them comes back as it was (stripped), so a plain question reaches the legs
    exactly as before. Raises `QueryError` ("year:20x9 at position 7: expected a year (2019) or a
    range (2019-2022)") for a malformed element.
    """
    scanner = _Scanner(text)
    scanner.run()
    return scanner.result()
