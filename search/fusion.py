"""Hybrid fusion: how the legs' scores for one query become one ranking.

A convex combination of min-max normalised leg scores over the candidate set. Unlike
reciprocal-rank fusion, a leg that separates its top answer clearly keeps that margin, so a
near-perfect leg is not dragged down by another's noise. The dense (USE) and lexical (BM25) legs
are combined first, with a per-query shift toward the leg whose top answer stands further ahead
and a lexical weight scaled by how much of the query the term index knows; the English (MiniLM)
leg is then mixed in with a share that depends on the query's language. Last, for the queries
`consensus` names, a record that two of the three legs rank first is ranked first (`agree`). Every
weight was chosen on the dev sets by bench/tune.py; bench/tune_split.py checks settings on
held-back halves of them (BENCHMARKS.md, "Tuning on halves"), which is why `fuse` is three public
steps a grid can reuse.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FusionWeights:
    """How hybrid mode combines the legs (see `fuse`).

    dense_weight: share of the normalised USE score in the USE + BM25 combination (rest: BM25);
    confidence: per-query shift of that share toward the leg whose top answer stands further ahead;
    coverage_power: the BM25 weight is scaled by (the query's vocabulary coverage) ** this;
    english_weight / english_weight_zh: share of the English MiniLM leg for an English / a Chinese
      query (a Chinese query reaches it only through derived keywords, a noisier reading);
    lead_weight: share of the lead passage's cosine in the English score (rest: best passage);
    trust: the English share also moves per query by ``confidence × (its margin − the USE + BM25
      margin)``, as the USE share does against BM25: a leg that reads a query poorly (a Chinese
      sentence seen through keyword glosses) has flat scores and gives way to a confident one;
    short_dense_weight: `dense_weight` for a short query (`search.query.is_short`: a name or a
      keyword pair such as "TCR-T" or "CAR-T 神经毒性"), which USE reads poorly and BM25 well
      (bench/concepts); None: the same as for any query. The confidence shift still applies.
    consensus: which queries `agree` acts on: "off", "zh" (Chinese queries that are not short) or
      "all" (every query that is not short). A short query is BM25-led by `short_dense_weight`
      instead; bench/consensus.py measures every scope.
    short_english_weight_zh: the English share for a short Chinese query (a name such as
      "TCR-T细胞治疗" or "靶向CD19治疗", which the English leg reads through the glossary's English
      names and the Latin-script words it keeps); None: `english_weight_zh`. bench/short_zh.py.
    """

    dense_weight: float
    confidence: float
    coverage_power: float
    english_weight: float = 0.0
    english_weight_zh: float = 0.0
    lead_weight: float = 0.0
    trust: bool = False
    short_dense_weight: float | None = None
    consensus: str = "off"
    short_english_weight_zh: float | None = None

    def dense_for(self, short: bool) -> float:
        """The USE share of step 1 for a query of this shape."""
        return self.short_dense_weight if short and self.short_dense_weight is not None else self.dense_weight

    def english_for(self, lang: str, short: bool = False) -> float:
        """The English leg's share for a query in `lang`: typed English is read by MiniLM as it
        is, a Chinese query only through the keywords derived from it (its own weight; a short
        Chinese name, whose English names the glossary knows, its own again)."""
        if lang != "zh":
            return self.english_weight
        if short and self.short_english_weight_zh is not None:
            return self.short_english_weight_zh
        return self.english_weight_zh

    def agrees_for(self, lang: str, short: bool) -> bool:
        """Whether `agree` acts on a query of this language and shape."""
        return not short and (self.consensus == "all" or (self.consensus == "zh" and lang == "zh"))

    def takes_part(self, leg: str, lang: str, short: bool = False) -> bool:
        """Whether `leg` has any say in hybrid fusion for a query of this language and shape (if not,
        it is not run)."""
        return leg != "english" or self.english_for(lang, short) > 0


# indexes with the English leg (default); the short-query share was chosen on the tune halves of the
# dev sets by bench/levers.py (0.5 → 0.0; every larger shift ties, the smaller is kept); the
# consensus scope on the same halves by bench/consensus.py (bench/short_zh.py measured a share of
# its own for short Chinese queries: not shipped)
THREE_LEGS = FusionWeights(dense_weight=0.5, confidence=0.5, coverage_power=4.0, english_weight=0.7,
                           english_weight_zh=0.4, lead_weight=0.3, short_dense_weight=0.0, consensus="zh")
TWO_LEGS = FusionWeights(dense_weight=0.6, confidence=1.0, coverage_power=2.0)  # indexes built --no-english


COSINE_LEGS = ("dense", "english")  # legs whose raw scores are cosines (comparable gaps)


def fuse(scores: Mapping[str, Mapping[int, float]], weights: FusionWeights, lang: str = "en",
         lexical_coverage: float = 1.0, short: bool = False) -> dict[int, float]:
    """One score per candidate from each leg's scores (leg name -> rowid -> score).

    `scores` holds "dense" and, where they took part, "lexical" and "english". `lang` picks the
    English leg's share; `lexical_coverage` (0..1, the share of the query's weighted tokens the
    term index knows) scales the lexical weight by ``coverage ** coverage_power``. `short` (a name or
    keyword pair, `search.query.is_short`) takes the USE share from `short_dense_weight`. A query
    with no lexical match (all BM25 scores 0) is ranked by the dense leg alone.
    """
    lexical = scores.get("lexical", {})
    matched = normalise(lexical) if lexical and max(lexical.values()) > 0 else None
    two = fuse_two(normalise(scores.get("dense", {})), matched, weights, lexical_coverage, short)
    english = scores.get("english")
    fused = add_english(two, normalise(english) if english else None, weights, lang,
                        (margin(scores.get("dense", {})), margin(english or {})), short)
    return agree(fused, scores) if weights.agrees_for(lang, short) else fused


def fuse_two(dense: Mapping[int, float], lexical: Mapping[int, float] | None, weights: FusionWeights,
             lexical_coverage: float = 1.0, short: bool = False) -> dict[int, float]:
    """Step 1 of `fuse`, on normalised scores: USE + BM25 (`lexical` None: no BM25 match, USE alone).

    `confidence` shifts the dense share per query toward the leg whose top answer stands further
    ahead of its runner-up (margin of the normalised scores); 0 keeps the fixed weights. The
    lexical weight is scaled by ``lexical_coverage ** coverage_power``.
    """
    if lexical is None:
        return dict(dense)
    w = weights.dense_for(short)
    if weights.confidence:
        w = min(0.9, max(0.1, w + weights.confidence * (margin(dense) - margin(lexical))))
    trust = lexical_coverage ** weights.coverage_power
    if trust < 1.0:
        w = w / (w + (1 - w) * max(trust, 0.0))
    return {rid: w * dense.get(rid, 0.0) + (1 - w) * lexical.get(rid, 0.0) for rid in dense.keys() | lexical.keys()}


def add_english(two: Mapping[int, float], english: Mapping[int, float] | None, weights: FusionWeights,
                lang: str = "en", raw_margins: tuple[float, float] = (0.0, 0.0), short: bool = False
                ) -> dict[int, float]:
    """Step 2 of `fuse`: the normalised English leg mixed into step 1's scores with its share for
    `lang`. With `trust`, the share moves per query by ``confidence × (English margin − USE margin)``
    on the raw cosines (`raw_margins`: USE's, then MiniLM's top-two gap; both are cosines, so their
    gaps compare where min-max normalised gaps cannot: a flat leg's tiny lead normalises to 1)."""
    share = weights.english_for(lang, short)
    if not english or share <= 0:
        return dict(two)
    if weights.trust and weights.confidence:
        share = min(0.9, max(0.0, share + weights.confidence * (raw_margins[1] - raw_margins[0])))
    # a record the English leg cannot read (no English text: a Chinese-only paper) keeps its
    # USE + BM25 score whole instead of scoring 0 on that leg: a missing reading is not a bad one
    return {rid: (1 - share) * two.get(rid, 0.0) + share * english[rid] if rid in english else two[rid]
            for rid in two.keys() | english.keys()}


def agree(fused: Mapping[int, float], scores: Mapping[str, Mapping[int, float]]) -> dict[int, float]:
    """Step 3 of `fuse`: the record that two legs rank first (each on its own raw scores, ties to the
    lower rowid as the engine sorts) is ranked first, just above the fused top score, unless the
    dissenting cosine leg is the more decisive one: its raw top-two gap larger than that of every
    agreeing cosine leg (USE and MiniLM scores are both cosines, so their gaps compare).

    Why: for a Chinese question each leg reads a different rendering of it (USE the Chinese itself,
    BM25 its tokens and glosses, MiniLM the English keywords derived from it). When two of those
    readings agree on the answer and the third does not, a weighted sum still lets the dissenting
    leg's scores decide (PubMedQA-zh: BM25 and MiniLM both first, USE missing it, fused third). A
    Chinese sentence whose translation USE finds far ahead (a wide gap) is not outvoted by flat
    keyword readings that happen to agree. A leg with no positive score (no lexical match) has no
    first place.
    """
    return place_first(fused, consensus_winner(scores))


def place_first(fused: Mapping[int, float], winner: int | None) -> dict[int, float]:
    """`fused` with `winner` ranked first, just above the top score (unchanged when it already is
    first, or is None or not a candidate): `agree` once its winner is known."""
    if winner is None or winner not in fused or winner == min(fused, key=lambda rid: (-fused[rid], rid)):
        return dict(fused)
    out = dict(fused)
    out[winner] = max(fused.values()) + 1e-6
    return out


def consensus_winner(scores: Mapping[str, Mapping[int, float]]) -> int | None:
    """The record `agree` ranks first: first on at least two legs, and no dissenting cosine leg with a
    wider raw top-two gap than every agreeing one; None when there is no such record."""
    firsts = {leg: min(s, key=lambda rid: (-s[rid], rid)) for leg, s in scores.items() if s and max(s.values()) > 0}
    votes = list(firsts.values())
    winner = next((rid for rid in dict.fromkeys(votes) if votes.count(rid) >= 2), None)
    if winner is None:
        return None
    gaps = {leg: margin(scores[leg]) for leg in COSINE_LEGS if leg in firsts}
    backing = max((gap for leg, gap in gaps.items() if firsts[leg] == winner), default=0.0)
    if any(gap > backing for leg, gap in gaps.items() if firsts[leg] != winner):
        return None
    return winner


def normalise(scores: Mapping[int, float]) -> dict[int, float]:
    """Min-max normalised to 0..1 over the candidates (all 0 when every score is the same)."""
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    span = hi - lo
    return {rid: (s - lo) / span if span > 0 else 0.0 for rid, s in scores.items()}


def margin(scores: Mapping[int, float]) -> float:
    """How far the top score stands ahead of the runner-up."""
    top = sorted(scores.values(), reverse=True)[:2]
    return top[0] - top[1] if len(top) == 2 else 0.0
