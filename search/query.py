"""Query analysis for the lexical leg: tokens of the query, plus glossary expansion.

A Chinese query against English abstracts has no lexical overlap; the glossary adds the English
terms (and abbreviations) of the concepts it names, and the reverse for English queries. Expansion
tokens weigh less than the user's own words, so they break ties rather than take over.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from corpus.text import detect_lang
from index.tokenize import tokenize

EXPANSION_WEIGHT = 0.5  # glossary terms of the concepts the query names
GLOSS_WEIGHT = 0.3  # CC-CEDICT senses of a Chinese query's everyday words (noisier)


@dataclass(frozen=True)
class LexicalQuery:
    lang: str
    tokens: list[str]
    weights: list[float]
    expansions: list[str]
    glosses: list[str]


@cache
def _glossary():
    from index.glossary import Glossary

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
