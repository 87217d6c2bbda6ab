"""The dense leg: USE multilingual vectors, Chinese and English in one space.

Two views of each record: the cosine between the query and the whole title+abstract of a
language (the document view), and the best cosine with one of its sentences (also the snippet).
Candidates come from both vector fields; each is then scored exactly on both views over its
runs of vectors, so no candidate is ranked on half its evidence.
"""

from __future__ import annotations

import numpy as np

from corpus.record import Record
from index.storage import Storage
from index.storage.base import DOCS, SENTENCES
from search.legs.base import Leg, LegResult, row_array
from search.query import Query

DOC_WEIGHT = 0.4  # share of the whole-abstract cosine in the dense score (rest: best sentence); see bench/NOTES.md


class DenseLeg(Leg):
    name = "dense"

    def __init__(self, storage: Storage, doc_weight: float = DOC_WEIGHT):
        self.storage = storage
        self.docs, self.sentences = storage.field(DOCS), storage.field(SENTENCES)
        self.doc_weight = doc_weight
        self._encoder = None

    @property
    def encoder(self):
        """The index's model as a query encoder (numpy for USE; loaded on first use)."""
        if self._encoder is None:
            from index.models.encoders import query_encoder

            m = self.storage.manifest
            self._encoder = query_encoder(m.model_id, m.model_path)
        return self._encoder

    def model_key(self) -> tuple:
        m = self.storage.manifest
        return (m.model_id, m.model_path)

    def prepare(self, query: Query, allowed: np.ndarray | None) -> np.ndarray:
        return self.encoder.encode([query.text])[0]

    def candidates(self, qv: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
        """Records whose document or one of whose sentences is among the nearest vectors."""
        docs = self.docs.nearest(qv, max(100, 5 * k), allowed)
        sentences = self.sentences.nearest(qv, max(300, 15 * k), allowed)
        return set(docs.tolist()) | set(sentences.tolist())

    def scores(self, qv: np.ndarray, rows: set[int]) -> LegResult:
        """doc_weight × document cosine + the rest × best sentence cosine (views: both cosines)."""
        if not rows:
            return LegResult({})
        ids = row_array(rows)
        doc = self.docs.best(ids, qv)
        sent = self.sentences.best(ids, qv)
        sent = np.where(self.sentences.counts(ids) > 0, sent, doc)  # a record without sentences scores on its doc
        return LegResult.of(ids, self.doc_weight * doc + (1 - self.doc_weight) * sent, doc, sent)

    def snippet(self, row: int, qv: np.ndarray, record: Record) -> tuple[str, str]:
        """The record's abstract sentence closest to the query (titles are shown apart), and its language."""
        sentences = self.storage.sentences(row)
        if not sentences:
            lang = record.langs[0] if record.langs else "en"
            return (record.abstract.get(lang) or record.title.get(lang, ""))[:300], lang
        offsets = np.array([s.offset for s in sentences], dtype=np.int64)
        best = sentences[int(self.sentences.cosines(row, offsets, qv).argmax())]
        return best.text, best.lang
