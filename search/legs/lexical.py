"""The lexical leg: BM25 over the query's jieba / stemmed tokens, glossary expansions and glosses.

Its candidates are BM25's own top records; it scores every other leg's candidates too (0 where
no term matched). How much of the query the term index knows (coverage) goes to fusion, which
trusts this leg less for a query it mostly cannot read (English words against Chinese records).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.storage import Storage
from search.legs.base import Leg, LegResult, row_array
from search.query import Query

CANDIDATES = 100  # BM25's own candidates per query (at least k)


@dataclass
class LexicalState:
    scores: np.ndarray  # BM25 score of every record; -inf where filters exclude it
    coverage: float


class LexicalLeg(Leg):
    name = "lexical"

    def __init__(self, storage: Storage):
        from index.lexical.tokenize import use_disk_dictionary  # query path: jieba's dictionary from a disk table

        use_disk_dictionary()
        self.storage = storage

    def prepare(self, query: Query, allowed: np.ndarray | None) -> LexicalState:
        lq = query.lexical
        terms = self.storage.terms
        return self.state(terms.scores(lq.tokens, lq.weights), terms.coverage(lq.tokens, lq.weights), allowed)

    @staticmethod
    def state(scores: np.ndarray, coverage: float, allowed: np.ndarray | None) -> LexicalState:
        """BM25 scores of every record as this leg holds them: -inf outside `allowed` (so that no
        excluded record is ever a candidate)."""
        if allowed is not None:
            mask = np.full(len(scores), -np.inf, dtype=np.float32)
            mask[allowed] = 0.0
            scores = scores + mask
        return LexicalState(scores, coverage)

    def candidates(self, state: LexicalState, k: int, allowed: np.ndarray | None) -> set[int]:
        """The top-scoring records with at least one matching term."""
        lex = state.scores
        n = min(len(lex), max(CANDIDATES, k))
        top = np.argpartition(-lex, n - 1)[:n] if n < len(lex) else np.arange(len(lex))
        return {int(i) for i in top if np.isfinite(lex[i]) and lex[i] > 0}

    def scores(self, state: LexicalState, rows: set[int]) -> LegResult:
        ids = row_array(rows)
        return LegResult(dict(zip(ids.tolist(), state.scores[ids].tolist(), strict=True)), coverage=state.coverage)
