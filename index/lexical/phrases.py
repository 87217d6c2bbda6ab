"""Exact phrases and excluded words, found in text as the tokenizer reads it.

A query's ``"cytokine release syndrome"`` must occur in a record's title or abstract, and ``-mouse``
must not. Both are read through the same normalisation as indexing, so what a person types meets
the text however either was written: `fold` is the tokenizer's own steps (`tokenize.normalise`:
NFKC, so full-width ＣＡＲ－Ｔ is CAR-T, one hyphen for every dash, Greek letters spelled out; then
`corpus.text.to_simplified`, so 細胞 is 细胞; then lower case), never a second normaliser.

Latin letters and digits match on word boundaries: "PD-1" does not match "PD-10", ``-mouse`` does not
drop "mousetrap"; a hyphen, a space, punctuation or a Chinese character is a boundary ("CAR-T" is
found in "anti-CAR-T" and in "CAR-T细胞"). Chinese matches by substring (Chinese has no spaces to
mark words). No stemming: a phrase is what the words are, "mouse" does not match "mice".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from corpus.text import CJK, CJK_CLASS, to_simplified
from index.lexical.tokenize import normalise


def fold(text: str) -> str:
    """`text` as matching reads it: the tokenizer's normalisation, Traditional → Simplified, lower case.

    The same as ``to_simplified(normalise(text)).lower()``, run only where it can change anything:
    NFKC, the dash and Greek table and OpenCC leave ASCII as it is, so each stretch of non-ASCII
    characters (with the character before it, which a combining mark may join) is normalised on
    its own and the rest is only lower-cased. Most of a PubMed abstract is ASCII: this folds the
    3,473 records of the bundled PubMed sample in half the CPU time of normalising them whole.
    """
    if not text.isascii():
        text = _NON_ASCII.sub(_fold_run, text)
    return text.lower()


_NON_ASCII = re.compile(r"[\x00-\x7f]?[^\x00-\x7f]+")


def _fold_run(m: re.Match) -> str:
    run = normalise(m[0])
    return to_simplified(run) if CJK.search(run) else run


def _word_char(ch: str) -> bool:
    """A letter or digit that a Latin word boundary may not cut through (CJK ideographs are not)."""
    return ch.isalnum() and not CJK.match(ch)


@dataclass(frozen=True)
class Phrase:
    """One phrase or word to look for, folded once; `in_text` and `spans` read folded text."""

    text: str  # as the person typed it
    folded: str = field(init=False)
    _left: bool = field(init=False, repr=False)  # starts with a Latin letter/digit: needs a boundary before
    _right: bool = field(init=False, repr=False)

    def __post_init__(self):
        folded = " ".join(fold(self.text).split())
        object.__setattr__(self, "folded", folded)
        object.__setattr__(self, "_left", bool(folded) and _word_char(folded[0]))
        object.__setattr__(self, "_right", bool(folded) and _word_char(folded[-1]))

    def find(self, text: str, start: int = 0) -> int:
        """Start of the first whole-word occurrence at or after `start` in folded `text`, or -1."""
        needle, n = self.folded, len(self.folded)
        if not needle:
            return -1
        i = text.find(needle, start)
        while i >= 0:
            end = i + n
            if not (self._left and i > 0 and _word_char(text[i - 1])) and \
                    not (self._right and end < len(text) and _word_char(text[end])):
                return i
            i = text.find(needle, i + 1)
        return -1

    def in_text(self, folded_text: str) -> bool:
        """Whether the phrase occurs in `folded_text` (text already passed through `fold`)."""
        return self.find(folded_text, 0) >= 0

    def spans(self, folded_text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence in `folded_text`, for highlighting."""
        out, i = [], self.find(folded_text, 0)
        while i >= 0:
            out.append((i, i + len(self.folded)))
            i = self.find(folded_text, i + len(self.folded))
        return out


# A Latin word as the matcher's boundaries cut it: a maximal run of letters and digits that are not
# CJK ideographs (exactly the characters `_word_char` accepts).
WORDS = re.compile(rf"[^\W_{CJK_CLASS}]+")


class WordIndex:
    """Which texts hold each Latin word, so that a phrase is checked only in texts holding all its
    words. Exact, not a heuristic: every Latin word of a phrase is cut by the same boundaries as the
    phrase itself (inside it by its own spaces and punctuation, at its ends by the whole-word check),
    so a text holding the phrase holds each of its words as a word. A phrase without a Latin word
    (Chinese) narrows nothing."""

    def __init__(self, texts: list[str]):
        postings: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            for word in set(WORDS.findall(text)):
                postings.setdefault(word, []).append(i)
        self.postings = {word: np.array(ids, dtype=np.int64) for word, ids in postings.items()}

    def candidates(self, phrase: Phrase) -> np.ndarray | None:
        """Indices, ascending, of the texts holding every Latin word of `phrase`; None when it has none."""
        words = set(WORDS.findall(phrase.folded))
        if not words:
            return None
        lists = sorted((self.postings.get(w, _NONE) for w in words), key=len)
        found = lists[0]
        for ids in lists[1:]:
            found = np.intersect1d(found, ids, assume_unique=True)
        return found


_NONE = np.zeros(0, dtype=np.int64)
