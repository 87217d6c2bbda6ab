"""Hybrid fusion: how the legs' scores for one query become one ranking.

A convex combination of min-max normalised leg scores over the candidate set. Unlike
reciprocal-rank fusion, a leg that separates its top answer clearly keeps that margin, so a
near-perfect leg is not dragged down by another's noise. The dense (USE) and lexical (BM25) legs
are combined first, with a per-query shift toward the leg whose top answer stands further ahead
and a lexical weight scaled by how much of the query the term index knows; the English (MiniLM)
leg is then mixed in with a share that depends on the query's language. Every weight was chosen
on the dev sets by bench/tune.py (BENCHMARKS.md).
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
    lead_weight: share of the lead passage's cosine in the English score (rest: best passage).
    """

    dense_weight: float
    confidence: float
    coverage_power: float
    english_weight: float = 0.0
    english_weight_zh: float = 0.0
    lead_weight: float = 0.0

    def english_for(self, lang: str) -> float:
        """The English leg's share for a query in `lang`: typed English is read by MiniLM as it
        is, a Chinese query only through the keywords derived from it (its own weight)."""
        return self.english_weight_zh if lang == "zh" else self.english_weight

    def takes_part(self, leg: str, lang: str) -> bool:
        """Whether `leg` has any say in hybrid fusion for a query in `lang` (if not, it is not run)."""
        return leg != "english" or self.english_for(lang) > 0


THREE_LEGS = FusionWeights(dense_weight=0.5, confidence=0.5, coverage_power=4.0, english_weight=0.7,
                           english_weight_zh=0.4, lead_weight=0.3)  # indexes with the English leg (default)
TWO_LEGS = FusionWeights(dense_weight=0.6, confidence=1.0, coverage_power=2.0)  # indexes built --no-english


def fuse(scores: Mapping[str, Mapping[int, float]], weights: FusionWeights, lang: str = "en",
         lexical_coverage: float = 1.0) -> dict[int, float]:
    """One score per candidate from each leg's scores (leg name -> rowid -> score).

    `scores` holds "dense" and, where they took part, "lexical" and "english". `lang` picks the
    English leg's share; `lexical_coverage` (0..1, the share of the query's weighted tokens the
    term index knows) scales the lexical weight by ``coverage ** coverage_power``. A query with no
    lexical match (all BM25 scores 0) is ranked by the dense leg alone.
    """
    return _combine(scores.get("dense", {}), scores.get("lexical", {}), weights.dense_weight, weights.confidence,
                   lexical_coverage ** weights.coverage_power, scores.get("english"), weights.english_for(lang))


def _combine(dense: Mapping[int, float], lexical: Mapping[int, float], dense_weight: float, confidence: float,
             lexical_trust: float, english: Mapping[int, float] | None, english_weight: float) -> dict[int, float]:
    """`fuse`'s arithmetic for this query's weights.

    `confidence` shifts the dense share per query toward the leg whose top answer stands further
    ahead of its runner-up (margin of the normalised scores); 0 keeps the fixed weights.
    `lexical_trust` (0..1) scales the lexical weight for this query.
    """
    d, lx = normalise(dense), normalise(lexical)
    if not lexical or max(lexical.values()) <= 0:
        two = d
    else:
        w = dense_weight
        if confidence:
            w = min(0.9, max(0.1, w + confidence * (margin(d) - margin(lx))))
        if lexical_trust < 1.0:
            w = w / (w + (1 - w) * max(lexical_trust, 0.0))
        two = {rid: w * d.get(rid, 0.0) + (1 - w) * lx.get(rid, 0.0) for rid in d.keys() | lx.keys()}
    if not english or english_weight <= 0:
        return two
    e = normalise(english)
    # a record the English leg cannot read (no English text: a Chinese-only paper) keeps its
    # USE + BM25 score whole instead of scoring 0 on that leg: a missing reading is not a bad one
    return {rid: (1 - english_weight) * two.get(rid, 0.0) + english_weight * e[rid] if rid in e else two[rid]
            for rid in two.keys() | e.keys()}


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
