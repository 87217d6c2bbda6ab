"""A query, read once: its text and language, the lexical leg's weighted tokens, glossary
expansions, CC-CEDICT glosses, and the English text the MiniLM leg reads.

A Chinese query against English abstracts has no lexical overlap; the glossary adds the English
terms (and abbreviations) of the concepts it names, and the reverse for English queries. Expansion
tokens weigh less than the user's own words, so they break ties rather than take over.

Every part is computed on first use and kept: a dense-only search never loads jieba or the
glossary, and nothing is analysed twice (the engine, the highlighter and the explain output all
read the same `Query`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

from corpus.text import detect_lang
from index.lexical.tokenize import tokenize

EXPANSION_WEIGHT = 0.5  # glossary terms of the concepts the query names
GLOSS_WEIGHT = 0.3  # CC-CEDICT senses of a Chinese query's everyday words (noisier)
ZH_ENGLISH = True  # a Chinese query feeds the English leg its glossary + CC-CEDICT keywords; bench/tune.py


@dataclass(frozen=True)
class LexicalQuery:
    """What the lexical leg reads: the query's own tokens (weight 1) and its expansions' (less)."""

    lang: str
    tokens: list[str]
    weights: list[float]
    expansions: list[str]
    glosses: list[str]


@cache
def _glossary():
    from index.lexical.glossary import Glossary

    return Glossary.load()


def analyse(query: str, expand: bool = True) -> LexicalQuery:
    lang = detect_lang(query)
    own = tokenize(query, lang)
    weights = {t: 1.0 for t in own}
    expansions = _glossary().expand(query, lang) if expand else []
    for term in expansions:
        for tok in tokenize(term):
            weights.setdefault(tok, EXPANSION_WEIGHT)
    glosses: list[str] = []
    if expand and lang == "zh":
        from search.translate import gloss

        glosses = gloss(query)
        for term in glosses:
            for tok in tokenize(term, "en"):
                weights.setdefault(tok, GLOSS_WEIGHT)
    return LexicalQuery(lang, list(weights), list(weights.values()), expansions, glosses)


@dataclass(frozen=True)
class Query:
    """One question as every leg, the highlighter and the faces see it. Build with `Query.parse`.

    Frozen fields; the derived parts are `cached_property`s (they write the instance's own
    ``__dict__``, which a frozen dataclass without slots allows).
    """

    text: str
    lang: str
    zh_english: bool = ZH_ENGLISH  # let a Chinese query reach the English leg through derived keywords

    @classmethod
    def parse(cls, text: str, zh_english: bool = ZH_ENGLISH) -> Query:
        text = text.strip()
        return cls(text, detect_lang(text), zh_english)

    @cached_property
    def lexical(self) -> LexicalQuery:
        """Tokens, weights, glossary expansions and glosses (jieba and the glossary load on first use)."""
        return analyse(self.text)

    # the lexical parts by name, so a Query reads like the LexicalQuery the highlighter takes
    @property
    def tokens(self) -> list[str]:
        return self.lexical.tokens

    @property
    def weights(self) -> list[float]:
        return self.lexical.weights

    @property
    def expansions(self) -> list[str]:
        return self.lexical.expansions

    @property
    def glosses(self) -> list[str]:
        return self.lexical.glosses

    @cached_property
    def english(self) -> str | None:
        """What the English leg reads: an English query itself; for a Chinese one the English terms
        derived from it (glossary expansions and CC-CEDICT glosses) as keywords, or None (the leg
        takes no part) when there are none or `zh_english` is off."""
        if self.lang != "zh":
            return self.text
        if not self.zh_english:
            return None
        words = [w for w in dict.fromkeys(self.expansions + self.glosses) if detect_lang(w) == "en"]
        return " ".join(words) if words else None
