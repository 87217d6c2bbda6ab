"""The query path: open a generation read-only, encode the query, rank records.

Dense scoring combines two views of each record (weights measured in BENCHMARKS.md):
- document score: cosine between the query and the whole title+abstract of a language;
- sentence score: the best cosine between the query and one sentence (also the snippet).
Candidates come from both FAISS indexes; each candidate is then scored exactly on both views
by reconstructing its (contiguous) vector ranges, so no candidate is ranked on half its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus.record import Record
from index import vectors
from index.encoders import ModelError, ModelSpec, query_encoder
from index.layout import IndexLayout
from index.manifest import IndexError_, Manifest
from index.store import Store, StoredRecord

DOC_WEIGHT = 0.7  # share of the document score in the dense score; see BENCHMARKS.md "doc vs sentence"
LANGS = ("any", "zh", "en")


class NoIndex(Exception):
    """No index has been built at this location yet."""


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking (so a narrow filter still fills the page)."""

    lang: str = "any"
    year_from: int | None = None
    year_to: int | None = None

    def sql(self) -> tuple[str, tuple] | None:
        where, args = [], []
        if self.lang == "zh":
            where.append("(title_zh IS NOT NULL OR abstract_zh IS NOT NULL)")
        elif self.lang == "en":
            where.append("(title_en IS NOT NULL OR abstract_en IS NOT NULL)")
        if self.year_from is not None:
            where.append("year >= ?")
            args.append(self.year_from)
        if self.year_to is not None:
            where.append("year <= ?")
            args.append(self.year_to)
        return (" AND ".join(where), tuple(args)) if where else None


@dataclass
class Hit:
    rank: int
    score: float
    record: Record
    snippet: str
    snippet_lang: str
    legs: dict[str, dict] = field(default_factory=dict)  # leg -> {"rank", "score"} for --explain

    def to_dict(self) -> dict:
        r = self.record
        return {
            "rank": self.rank, "score": round(float(self.score), 4), "id": r.id, "pmid": r.pmid, "doi": r.doi,
            "year": r.year, "journal": r.journal, "title_zh": r.title.get("zh"), "title_en": r.title.get("en"),
            "snippet": self.snippet,
        }


class Searcher:
    """A read-only view of the generation that was current when it was opened."""

    def __init__(self, index_dir: Path, model: str | None = None, doc_weight: float = DOC_WEIGHT):
        self.layout = IndexLayout(Path(index_dir))
        generation = self.layout.current()
        if generation is None:
            raise NoIndex(
                f"no index at {self.layout.root} yet. Build one with: oncosearch index build "
                f"(the bundled sample) or oncosearch index build FILES..."
            )
        if not generation.is_dir():
            raise IndexError_(f"{self.layout.current_file} points at {generation.name}, which is missing")
        self.generation = generation
        self.manifest = Manifest.read(generation)
        if model is not None:
            spec = ModelSpec.parse(model)
            if spec.model_id != self.manifest.model_id:
                raise ModelError(
                    f"this index was built with {self.manifest.model_id}; you asked for {spec.model_id}. "
                    "Vectors of different models are not comparable: leave --model out, or rebuild the index "
                    "with this model (oncosearch index build --model ...)."
                )
        self.doc_weight = doc_weight
        self.store = self._open_store()
        self.docs = self._open_vectors("docs.faiss", self.manifest.docs)
        self.sents = self._open_vectors("sents.faiss", self.manifest.sentences)
        self._ranges = np.array(self.store.ranges(), dtype=np.int64).reshape(-1, 5)
        if len(self._ranges) != self.manifest.records:
            raise IndexError_(f"{generation}: store holds {len(self._ranges)} records, manifest says "
                              f"{self.manifest.records}; run oncosearch index check")
        self._doc_owner = np.repeat(self._ranges[:, 0], self._ranges[:, 2])
        self._sent_owner = np.repeat(self._ranges[:, 0], self._ranges[:, 4])
        self._encoder = None

    def _open_store(self) -> Store:
        import sqlite3

        path = self.generation / "store.sqlite"
        try:
            return Store(path)
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"{path}: not a readable oncosearch store ({e}); run oncosearch index check") from None

    def _open_vectors(self, name: str, expected: int):
        path = self.generation / name
        if not path.exists():
            raise IndexError_(f"{path}: missing; run oncosearch index check")
        try:
            index = vectors.read(path)
        except RuntimeError as e:
            first = str(e).strip().splitlines()[-1][:200] if str(e).strip() else "unreadable"
            raise IndexError_(f"{path}: damaged FAISS file ({first}); run oncosearch index check") from None
        if index.ntotal != expected or index.d != self.manifest.dim:
            raise IndexError_(f"{path}: holds {index.ntotal} vectors of dimension {index.d}, manifest says "
                              f"{expected} of {self.manifest.dim}; run oncosearch index check")
        return index

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = query_encoder(self.manifest.model_id, self.manifest.model_path)
        return self._encoder

    def allowed_rowids(self, filters: Filters | None) -> np.ndarray | None:
        clause = filters.sql() if filters else None
        if clause is None:
            return None
        return np.array(self.store.rowids_where(*clause), dtype=np.int64)

    def dense_scores(self, qv: np.ndarray, k: int, allowed: np.ndarray | None
                     ) -> dict[int, tuple[float, float, float, int]]:
        """record rowid -> (dense score, doc score, sentence score, best sentence vid) for candidates."""
        doc_allowed = sent_allowed = None
        if allowed is not None:
            r = self._ranges[allowed]
            doc_allowed = _expand_ranges(r[:, 1], r[:, 2])
            sent_allowed = _expand_ranges(r[:, 3], r[:, 4])
        _, doc_ids = vectors.search(self.docs, qv, max(100, 5 * k), doc_allowed)
        _, sent_ids = vectors.search(self.sents, qv, max(300, 15 * k), sent_allowed)
        candidates = set(self._doc_owner[doc_ids].tolist()) | set(self._sent_owner[sent_ids].tolist())
        out = {}
        for rowid in candidates:
            _, ds, dc, ss, sc = self._ranges[rowid]
            doc_score = float((vectors.reconstruct_range(self.docs, int(ds), int(dc)) @ qv).max()) if dc else 0.0
            if sc:
                sent = vectors.reconstruct_range(self.sents, int(ss), int(sc)) @ qv
                best = int(sent.argmax())
                sent_score, best_vid = float(sent[best]), int(ss) + best
            else:
                sent_score, best_vid = doc_score, -1
            score = self.doc_weight * doc_score + (1 - self.doc_weight) * sent_score
            out[rowid] = (score, doc_score, sent_score, best_vid)
        return out

    def search(self, query: str, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        query = query.strip()
        if not query:
            raise ValueError("empty query: type some words, e.g. oncosearch search \"CAR-T cytokine release\"")
        qv = self.encoder.encode([query])[0]
        allowed = self.allowed_rowids(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        scored = self.dense_scores(qv, k, allowed)
        top = sorted(scored.items(), key=lambda kv: (-kv[1][0], kv[0]))[:k]
        return self._hits(top, {"dense": {rid: (i + 1, s[0]) for i, (rid, s) in enumerate(top)}})

    def _hits(self, top: list[tuple[int, tuple]], legs: dict[str, dict[int, tuple[int, float]]]) -> list[Hit]:
        records = self.store.get([rid for rid, _ in top])
        texts = self.store.sentence_texts([s[3] for _, s in top if s[3] >= 0])
        hits = []
        for rank, (rowid, (score, _doc, _sent, vid)) in enumerate(top, 1):
            stored: StoredRecord = records[rowid]
            rec = stored.record
            snippet = texts.get(vid) or next(iter(rec.abstract.values()), "")[:240]
            lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in snippet[:50]) else "en"
            explain = {leg: {"rank": v[rowid][0], "score": round(float(v[rowid][1]), 4)}
                       for leg, v in legs.items() if rowid in v}
            hits.append(Hit(rank, score, rec, snippet, lang, explain))
        return hits

    def get(self, key: str) -> StoredRecord | None:
        return self.store.find(key)


def _expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate the integer ranges [start, start+count) (vector ids of allowed records)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(total, dtype=np.int64)
