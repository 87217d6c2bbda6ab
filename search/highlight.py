"""Marking the query's terms inside a snippet, for the table shown to people.

The snippet is read through the tokenizer's own normalisation (`index.lexical.tokenize.normalise`:
NFKC, one hyphen for all dashes, Greek letters spelled out), so full-width ＣＡＲ－Ｔ and ＰＤ－１ are
found like CAR-T and PD-1; the spans are character offsets of the ORIGINAL snippet.

English: a word (a hyphenated compound is one word, and so is a spaced code the tokenizer joins,
"CAR T", "PD L1") is marked when it matches the query as a whole: every BM25 token of the word is
a query token. So "tumours" lights up for "tumor" and "CAR-T" for "CAR-T cells", but "PD-L1"
(pdl1, pd, l1) does not for "PD-1" (pd1, pd, 1), nor "IL-2" for "IL-6": a shared part is not enough.
A compound made of self-standing pieces (split where one side is a word or a code such as HER2 or
CD19, never inside a code such as PD-L1, IL-6 or CAR-T) is marked whole when every piece matches
("T-cell" for "T cells"); otherwise only a piece that names an entity is marked ("HER2" in
"HER2-positive", "CAR-T" in "CD19-CAR-T", "PD-L1" in "anti-PD-L1"), a plain word is not
("small" in "non-small-cell").

Chinese query words and glossary expansions are matched as substrings, longest first.

A query's exact phrases (search/syntax.py) are marked whole wherever they occur, as the storage
matched them (`index.lexical.phrases`: folded text, Latin words on word boundaries); a term inside a
marked phrase is not marked again.
"""

from __future__ import annotations

import re

from corpus.text import CJK as _CJK
from corpus.text import CJK_CLASS
from index.lexical.phrases import Phrase, fold
from index.lexical.tokenize import normalise, tokenize
from search.query import LexicalQuery, Query

_PART = rf"(?:(?![{CJK_CLASS}])[^\W_])+"  # letters and digits of any script but CJK ideographs
_WORD = re.compile(rf"{_PART}(?:-{_PART})*")  # a word or hyphenated compound, as the tokenizer reads it
_GREEK_NAMES = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi "
    "psi omega".split()
)  # "TNF-α" → "TNF-alpha": the letter belongs to the code, it is not a word of its own


def _normalised(snippet: str) -> tuple[str, list[int]]:
    """`snippet` normalised as the tokenizer does, and for each of its characters the index of the
    original character it came from (NFKC and the Greek names can change lengths: "α" → "alpha")."""
    if snippet.isascii():  # nothing to fold (dash variants and Greek are not ASCII)
        return snippet, list(range(len(snippet)))
    out: list[str] = []
    src: list[int] = []
    for i, ch in enumerate(snippet):
        n = ch if ch.isascii() else normalise(ch)
        out.append(n)
        src.extend([i] * len(n))
    return "".join(out), src


def _self_standing(part: str) -> bool:
    """A piece that means something on its own: a word ("positive", "anti", "cell") or a code with
    letters and digits ("HER2", "CD19"); not a short code piece ("PD", "L1", "CAR", "T", "6")."""
    if part.isalpha():
        return len(part) >= 4 and part.lower() not in _GREEK_NAMES
    return len(part) >= 3 and not part.isdigit() and any(c.isalpha() for c in part)


def _can_cut(a: str, b: str) -> bool:
    """Whether a compound may be split between its parts `a` and `b` ("HER2|positive", "anti|PD-L1",
    "T|cell", "PD-1|positive") rather than being one code ("PD-L1", "IL-6", "CAR-T", "CTLA-4",
    "TNF-alpha", "interleukin-6"). A number ends the code before it: never cut in front of one."""
    if b.isdigit():
        return False
    if a.isdigit():
        return _self_standing(b)
    return _self_standing(a) or _self_standing(b)


def _names_entity(piece: str) -> bool:
    """A code rather than a plain word: two parts or more, a digit, or capitals ("CAR-T", "HER2", "EGFR")."""
    letters = [c for c in piece if c.isalpha()]
    return "-" in piece or " " in piece or any(c.isdigit() for c in piece) or (len(letters) >= 2 and piece.isupper())


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word or compound of normalised `text`; two words the tokenizer joins
    ("CAR T", "PD L1": it adds the joined token) count as one."""
    found = [m.span() for m in _WORD.finditer(text)]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(found):
        s, e = found[i]
        if i + 1 < len(found):
            s2, e2 = found[i + 1]
            a, b = text[s:e], text[s2:e2]
            if s2 == e + 1 and text[e] == " " and len(a) <= 5 and len(b) <= 5 and a.isalpha() and "-" not in b:
                pair = len(tokenize(text[s:e2], "en"))
                if pair > len(tokenize(a, "en")) + len(tokenize(b, "en")):  # joined: "car t" → + cart
                    out.append((s, e2))
                    i += 2
                    continue
        out.append((s, e))
        i += 1
    return out


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split the compound text[start:end] where `_can_cut` allows; spans in `text`."""
    parts = [(m.start() + start, m.end() + start) for m in re.finditer(r"[^\-]+", text[start:end])]
    if len(parts) == 1 or " " in text[start:end]:
        return [(start, end)]
    out = [parts[0]]
    for (ps, pe), (s, e) in zip(parts, parts[1:], strict=False):
        if _can_cut(text[ps:pe], text[s:e]):
            out.append((s, e))
        else:
            out[-1] = (out[-1][0], e)
    return out


def _english_spans(text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Spans (in normalised `text`) of the words and pieces of words that match the query's tokens."""

    def matches(s: int, e: int) -> bool:
        toks = tokenize(text[s:e], "en")
        return bool(toks) and wanted.issuperset(toks)

    found: list[tuple[int, int]] = []
    for s, e in _words(text):
        if e - s <= 1:  # single letters and digits ("T", "1") say nothing on their own
            continue
        if matches(s, e):
            found.append((s, e))
            continue
        pieces = _pieces(text, s, e)
        if len(pieces) == 1:
            continue
        hits = [matches(ps, pe) for ps, pe in pieces]
        if all(hits):
            found.append((s, e))
        else:
            found += [(ps, pe) for (ps, pe), hit in zip(pieces, hits, strict=True) if hit and _names_entity(text[ps:pe])]
    return found


def _phrase_spans(snippet: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans (offsets of `snippet`) of the phrases, overlapping ones merged. The snippet is folded
    character by character so that every folded character knows where it came from."""
    if snippet.isascii():
        text, src = snippet.lower(), list(range(len(snippet)))
    else:
        pieces = [fold(ch) for ch in snippet]
        text = "".join(pieces)
        src = [i for i, piece in enumerate(pieces) for _ in piece]
    found = sorted((src[s], src[e - 1] + 1) for p in phrases for s, e in Phrase(p).spans(text))
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def spans(snippet: str, query: LexicalQuery | Query) -> list[tuple[int, int]]:
    """Non-overlapping (start, end) character spans of query terms in `snippet` (offsets of `snippet` as given)."""
    phrases = query.phrases if isinstance(query, Query) else ()
    marked = _phrase_spans(snippet, phrases) if phrases else []
    text, src = _normalised(snippet)
    found = _english_spans(text, set(query.tokens))
    zh_terms = sorted({t for t in query.tokens if _CJK.search(t) and len(t) >= 2}, key=len, reverse=True)
    zh_terms += sorted({normalise(t) for t in query.expansions if _CJK.search(t)}, key=len, reverse=True)
    for term in zh_terms:
        for m in re.finditer(re.escape(term), text):
            if not any(s < m.end() and m.start() < e for s, e in found):
                found.append(m.span())
    terms = [(src[s], src[e - 1] + 1) for s, e in found]
    return sorted(marked + [(s, e) for s, e in terms if not any(ms < e and s < me for ms, me in marked)])


def rich_markup(snippet: str, query: LexicalQuery | Query, style: str = "bold yellow") -> str:
    from rich.markup import escape

    out, last = [], 0
    for start, end in spans(snippet, query):
        out.append(escape(snippet[last:start]))
        out.append(f"[{style}]{escape(snippet[start:end])}[/{style}]")
        last = end
    out.append(escape(snippet[last:]))
    return "".join(out)
