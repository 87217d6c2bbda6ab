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

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

from corpus.text import CJK, detect_lang
from index.lexical.tokenize import EN_STOPWORDS, tokenize
from index.storage.base import Filters
from search.concepts import glossary
from search.syntax import parse as parse_syntax

EXPANSION_WEIGHT = 0.5  # glossary terms of the concepts the query names
GLOSS_WEIGHT = 0.3  # CC-CEDICT senses of a Chinese query's everyday words (noisier)
ZH_ENGLISH = True  # a Chinese query feeds the English leg its glossary + CC-CEDICT keywords; bench/tune.py
LATIN_WORDS = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.'+/-]*[A-Za-z0-9])?")  # "Lloyd-Davies", "1.5T", "CA19-9"
SHORT_RULE = "Chinese query: ≤ 12 Han characters; otherwise: ≤ 3 words that are not English stopwords"


def is_short(text: str, lang: str) -> bool:
    """Whether a query is a short name or keyword pair (`SHORT_RULE`: "TCR-T", "CAR-T 神经毒性")
    rather than a question or a sentence. Fusion trusts BM25 more for these (`search.fusion`):
    USE reads a two-word name poorly (bench/concepts). Fixed before the held-back halves were read."""
    if lang == "zh":
        return len(CJK.findall(text)) <= 12
    return sum(w not in EN_STOPWORDS for w in re.findall(r"[a-z0-9]+", text.lower())) <= 3


@dataclass(frozen=True)
class LexicalQuery:
    """What the lexical leg reads: the query's own tokens (weight 1) and its expansions' (less)."""

    lang: str
    tokens: list[str]
    weights: list[float]
    expansions: list[str]
    glosses: list[str]


def analyse(query: str, expand: bool = True) -> LexicalQuery:
    lang = detect_lang(query)
    own = tokenize(query, lang)
    weights = {t: 1.0 for t in own}
    expansions = glossary().expand(query, lang) if expand else []
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

    text: str  # the free text: what the legs rank ("" when the query is only fields and phrases)
    lang: str
    zh_english: bool = ZH_ENGLISH  # let a Chinese query reach the English leg through derived keywords
    phrases: tuple[str, ...] = ()  # must occur in the title or abstract (search/syntax.py)
    excluded: tuple[str, ...] = ()  # words and phrases that must not
    filters: Filters = field(default_factory=Filters)  # the query's own field terms (year:, author:, ...)
    source: str = field(default="", compare=False)  # the query as typed, to show back ("" when built directly)

    @classmethod
    def parse(cls, text: str, zh_english: bool = ZH_ENGLISH, syntax: bool = True) -> Query:
        """`text` read as a query: its phrases, exclusions and field terms taken out (`search.syntax`),
        or with `syntax=False` all of it as plain text (natural-language questions in evaluation sets,
        where a quote is punctuation). Raises `QueryError` for malformed syntax."""
        if not syntax:
            text = text.strip()
            return cls(text, detect_lang(text), zh_english, source=text)
        parsed = parse_syntax(text)
        lang = detect_lang(parsed.text or " ".join(parsed.phrases) or text)
        return cls(parsed.text, lang, zh_english, parsed.phrases, parsed.excluded, parsed.filters, text.strip())

    @property
    def restricted(self) -> bool:
        """Whether the query carries phrases, exclusions or field terms (applied before ranking)."""
        return bool(self.phrases or self.excluded) or not self.filters.empty

    @property
    def short(self) -> bool:
        """A short name or keyword pair (`is_short`), which fusion ranks with more weight on BM25."""
        return is_short(self.text, self.lang)

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
        """What the English leg reads: an English query itself; for a Chinese one its own Latin-script
        words and the English terms derived from it (glossary expansions and CC-CEDICT glosses) as
        keywords, or None (the leg takes no part) when there are none or `zh_english` is off."""
        if self.lang != "zh":
            return self.text
        if not self.zh_english:
            return None
        words = [w for w in dict.fromkeys(self.latin + self.expansions + self.glosses) if detect_lang(w) == "en"]
        return " ".join(words) if words else None

    @property
    def latin(self) -> list[str]:
        """The words a Chinese query writes in Latin letters or digits, in order ("Trendelenburg",
        "STIR", "1.5T", "Ki-67"): names, abbreviations and numbers that no dictionary glosses, and
        that English abstracts write the same way."""
        return LATIN_WORDS.findall(unicodedata.normalize("NFKC", self.text))
