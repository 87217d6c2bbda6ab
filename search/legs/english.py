"""The English leg: all-MiniLM-L6-v2 over each record's English passages (indexes built with it).

On English biomedical questions a small English model ranks far better than USE (BENCHMARKS.md),
so an English query is encoded as typed; a Chinese one reaches the leg through the English
words derived from it (`Query.english`), or not at all. Two views of a long abstract, like the
dense leg's: the lead passage (title and opening: what the paper is about) and the best passage
(where a detail is); the lead weight was measured on the dev sets (bench/tune.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.errors import ModelError
from index.storage import Storage
from index.storage.base import PASSAGES
from search.legs.base import Leg, LegResult, row_array
from search.query import Query


class EnglishLeg(Leg):
    name = "english"
    background = True  # MiniLM's encode is the largest of a query: it runs beside USE's work

    def __init__(self, storage: Storage, lead_weight: float):
        from index.english import SETTING, SETTING_ID

        self.passages = storage.field(PASSAGES)
        self.model_dir = storage.manifest.settings[SETTING]
        self.model_id = storage.manifest.settings.get(SETTING_ID, "")
        self.lead_weight = lead_weight
        self._encoder = None

    @property
    def encoder(self):
        """MiniLM in numpy (no torch), loaded on the first query that uses the leg."""
        if self._encoder is None:
            from index.english import INSTALL_HINT
            from index.models.encoders import ModelSpec, query_threads
            from index.models.minilm_numpy import MiniLMNumpy

            if not Path(self.model_dir).is_dir():
                raise ModelError(f"the index's English leg was built with {self.model_dir}, which is gone "
                                 f"({INSTALL_HINT}, or rebuild with --no-english)")
            if ModelSpec.parse(self.model_dir).model_id != self.model_id:
                raise ModelError(f"English model {self.model_dir} changed since the index was built; rebuild it")
            self._encoder = MiniLMNumpy(self.model_dir, threads=query_threads())
        return self._encoder

    def model_key(self) -> tuple:
        return (self.model_id, self.model_dir)

    def prepare(self, query: Query, allowed: np.ndarray | None) -> np.ndarray | None:
        text = query.english
        return self.encoder.encode([text])[0] if text is not None else None

    def candidates(self, ev: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
        """Records one of whose English passages is among the nearest passage vectors."""
        return set(self.passages.nearest(ev, max(100, 5 * k), allowed).tolist())

    def scores(self, ev: np.ndarray, rows: set[int]) -> LegResult:
        """lead_weight × lead passage cosine + the rest × best passage cosine, for the records
        that have English passages (views: lead and best cosines)."""
        ids = row_array(rows)
        ids = ids[self.passages.counts(ids) > 0]
        if len(ids) == 0:
            return LegResult({})
        best = self.passages.best(ids, ev)
        lead = self.passages.first(ids, ev)
        return LegResult.of(ids, self.lead_weight * lead + (1 - self.lead_weight) * best, lead, best)
