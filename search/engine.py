"""The query path: open a generation read-only, encode the query, rank records.

Dense scoring combines two views of each record (weights measured in BENCHMARKS.md):
- document score: cosine between the query and the whole title+abstract of a language;
- sentence score: the best cosine between the query and one sentence (also the snippet).
Candidates come from both FAISS indexes; each candidate is then scored exactly on both views
by reconstructing its (contiguous) vector ranges, so no candidate is ranked on half its evidence.

Hybrid mode (the default) adds two legs and fuses the three (`fuse`, weights in `THREE_LEGS`):
BM25 over jieba / stemmed tokens with glossary and CC-CEDICT expansion (index/lexical.py), and,
when the index has it, the English MiniLM passage leg (index/english.py; lead and best passage,
like the doc and sentence views above). Every candidate of any leg is scored on every leg.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from corpus.record import Record
from index import vectors
from index.encoders import ModelError, ModelSpec, query_encoder
from index.layout import IndexLayout
from index.manifest import IndexError_, Manifest
from index.store import RANGES_FILE, Store, StoredRecord

DOC_WEIGHT = 0.4  # share of the whole-abstract cosine in the dense score (rest: best sentence); bench/tune.py


@dataclass(frozen=True)
class FusionWeights:
    """How hybrid mode combines the legs (see `fuse`); every value chosen on the dev sets by bench/tune.py.

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


THREE_LEGS = FusionWeights(dense_weight=0.5, confidence=0.5, coverage_power=4.0, english_weight=0.7,
                           english_weight_zh=0.4, lead_weight=0.3)  # indexes with the English leg (default)
TWO_LEGS = FusionWeights(dense_weight=0.6, confidence=1.0, coverage_power=2.0)  # indexes built --no-english
ZH_ENGLISH = True  # a Chinese query feeds the English leg its glossary + CC-CEDICT keywords; bench/tune.py
LANGS = ("any", "zh", "en")
MODES = ("hybrid", "dense", "lexical", "english")  # dense: USE alone; english: MiniLM alone
LEXICAL_CANDIDATES = 100


class NoIndex(Exception):
    """No index has been built at this location yet."""


@dataclass(frozen=True)
class Filters:
    """Restrictions applied before ranking (so a narrow filter still fills the page)."""

    lang: str = "any"
    year_from: int | None = None
    year_to: int | None = None
    journal: str | None = None  # case-insensitive substring of the journal name
    pub_type: str | None = None  # case-insensitive substring of a publication type ("Review", "Clinical Trial")
    therapy: tuple[str, ...] = ()  # glossary concept ids (any of them), e.g. ("car-t",)
    cancer: tuple[str, ...] = ()

    def sql(self) -> tuple[str, tuple] | None:
        where: list[str] = []
        args: list = []
        if self.journal:
            where.append("lower(journal) LIKE ?")
            args.append(f"%{self.journal.lower()}%")
        if self.pub_type:
            where.append("lower(pub_types) LIKE ?")
            args.append(f"%{self.pub_type.lower()}%")
        for category, ids in (("therapy", self.therapy), ("cancer", self.cancer)):
            if ids:
                where.append(f"EXISTS (SELECT 1 FROM json_each(records.tags, '$.{category}') "
                             f"WHERE value IN ({','.join('?' * len(ids))}))")
                args += list(ids)
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
class LegScores:
    """Every leg's score for each candidate record of one query (rowid -> score).

    `dense` and `lexical` cover every candidate (BM25 0 where no term matched); `english` covers
    the candidates that have English passages, and is empty when the leg is absent or has no text
    for this query. `lexical_top` are BM25's own candidates, `coverage` the share of the query's
    weighted tokens the lexical index knows (how far to trust the lexical leg).
    """

    dense: dict[int, float]
    lexical: dict[int, float]
    english: dict[int, float]
    lexical_top: list[int]
    coverage: float
    english_views: dict[int, tuple[float, float, float]] = field(default_factory=dict)  # (score, lead, best)


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

    def __init__(self, index_dir: Path, model: str | None = None, doc_weight: float = DOC_WEIGHT,
                 weights: FusionWeights | None = None, zh_english: bool = ZH_ENGLISH):
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
        _single_query_threads()
        from index.tokenize import use_disk_dictionary  # query path: jieba's dictionary from a disk table
        use_disk_dictionary()
        self.doc_weight = doc_weight
        self.zh_english = zh_english
        self.store = self._open_store()
        self.docs = self._open_vectors("docs.faiss", self.manifest.docs)
        self.sents = self._open_vectors("sents.faiss", self.manifest.sentences)
        self._ranges = self._open_ranges()
        if len(self._ranges) != self.manifest.records:
            raise IndexError_(f"{generation}: store holds {len(self._ranges)} records, manifest says "
                              f"{self.manifest.records}; run oncosearch index check")
        self._doc_owner = np.repeat(self._ranges[:, 0], self._ranges[:, 2])
        self._sent_owner = np.repeat(self._ranges[:, 0], self._ranges[:, 4])
        self._doc_matrix = vectors.matrix(self.docs)
        self._sent_matrix = vectors.matrix(self.sents)
        self._encoder = None
        self._lexical = None
        self.english = self._open_english()
        self.weights = weights or (THREE_LEGS if self.english is not None else TWO_LEGS)

    def _open_store(self) -> Store:
        import sqlite3

        path = self.generation / "store.sqlite"
        try:
            return Store(path)
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"{path}: not a readable oncosearch store ({e}); run oncosearch index check") from None

    def _open_ranges(self) -> np.ndarray:
        """Every record's vector ranges: the generation's ranges.npy, or (older generations) the store's table."""
        path = self.generation / RANGES_FILE
        if not path.exists():
            return np.array(self.store.ranges(), dtype=np.int64).reshape(-1, 5)
        try:
            ranges = np.load(path)
        except (OSError, ValueError) as e:
            raise IndexError_(f"{path}: unreadable ({e}); run oncosearch index check") from None
        if ranges.ndim != 2 or ranges.shape[1] != 5 or not np.array_equal(ranges[:, 0], np.arange(len(ranges))):
            raise IndexError_(f"{path}: not a table of record ranges (shape {ranges.shape}); run oncosearch index check")
        return ranges

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

    def _open_english(self):
        """The generation's English passage leg (index.english), or None when built without it."""
        from index.english import SETTING, SETTING_ID, EnglishLeg

        path = self.manifest.settings.get(SETTING)
        if not path:
            return None
        return EnglishLeg(self.generation, self.manifest.records, path, self.manifest.settings.get(SETTING_ID, ""))

    @cached_property
    def _background(self) -> ThreadPoolExecutor:
        """One worker thread for the English query encode (numpy and BLAS release the GIL)."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="oncosearch-english")

    @property
    def encoder(self):
        if self._encoder is None:
            self._encoder = query_encoder(self.manifest.model_id, self.manifest.model_path)
        return self._encoder

    @property
    def lexical(self):
        if self._lexical is None:
            import sqlite3

            from index.lexical import LexicalIndex

            try:
                self._lexical = LexicalIndex(self.generation)
            except (FileNotFoundError, ValueError, OSError, sqlite3.Error) as e:
                raise IndexError_(f"{self.generation}: lexical index unreadable ({e}); run oncosearch index check"
                                  ) from None
        return self._lexical

    def allowed_rowids(self, filters: Filters | None) -> np.ndarray | None:
        clause = filters.sql() if filters else None
        if clause is None:
            return None
        return np.array(self.store.rowids_where(*clause), dtype=np.int64)

    def dense_candidates(self, qv: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
        """Records whose document or one of whose sentences is among the nearest vectors."""
        doc_allowed = sent_allowed = None
        if allowed is not None:
            r = self._ranges[allowed]
            doc_allowed = _expand_ranges(r[:, 1], r[:, 2])
            sent_allowed = _expand_ranges(r[:, 3], r[:, 4])
        _, doc_ids = vectors.search(self.docs, qv, max(100, 5 * k), doc_allowed)
        _, sent_ids = vectors.search(self.sents, qv, max(300, 15 * k), sent_allowed)
        return set(self._doc_owner[doc_ids].tolist()) | set(self._sent_owner[sent_ids].tolist())

    def dense_exact(self, qv: np.ndarray, rowids: set[int]) -> dict[int, tuple[float, float, float]]:
        """rowid -> (dense score, doc score, best sentence score), computed exactly for every candidate.

        One gather and one matrix product per view (vectors are read in place from the FAISS
        storage), then per-record maxima with `np.maximum.reduceat` over the contiguous ranges.
        """
        if not rowids:
            return {}
        rows = np.fromiter(rowids, dtype=np.int64, count=len(rowids))
        r = self._ranges[rows]
        doc = _range_max(self._doc_matrix, r[:, 1], r[:, 2], qv)
        sent = _range_max(self._sent_matrix, r[:, 3], r[:, 4], qv)
        sent = np.where(r[:, 4] > 0, sent, doc)  # a record without sentences scores on its doc alone
        dense = self.doc_weight * doc + (1 - self.doc_weight) * sent
        return {int(rid): (float(a), float(b), float(c)) for rid, a, b, c in zip(rows, dense, doc, sent, strict=True)}

    def lexical_leg(self, lq, allowed: np.ndarray | None) -> tuple[np.ndarray, float]:
        """(BM25 score of every record, vocabulary coverage of the query's weighted tokens) for an
        analysed query (`search.query.analyse`)."""
        scores = self.lexical.scores(lq.tokens, lq.weights)
        coverage = self.lexical.coverage(lq.tokens, lq.weights)
        if allowed is not None:
            mask = np.full(len(scores), -np.inf, dtype=np.float32)
            mask[allowed] = 0.0
            scores = scores + mask
        return scores, coverage

    def english_text(self, query: str, lq=None) -> str | None:
        """What the English leg reads for `query`: an English query itself; for a Chinese one the
        English terms we can derive from it (glossary expansions and CC-CEDICT glosses) as
        keywords, or None (no English leg for this query) when there are none or zh_english is off."""
        from corpus.text import detect_lang

        if detect_lang(query) != "zh":
            return query
        if not self.zh_english:
            return None
        if lq is None:
            from search.query import analyse

            lq = analyse(query)
        words = [w for w in dict.fromkeys(lq.expansions + lq.glosses) if detect_lang(w) == "en"]
        return " ".join(words) if words else None

    def english_candidates(self, ev: np.ndarray, k: int, allowed: np.ndarray | None) -> set[int]:
        """Records one of whose English passages is among the nearest passage vectors."""
        leg = self.english
        passage_allowed = None
        if allowed is not None:
            r = np.asarray(leg.ranges)[allowed]
            passage_allowed = _expand_ranges(r[:, 0], r[:, 1])
        _, ids = vectors.search(leg.index, ev, max(100, 5 * k), passage_allowed)
        return set(leg.owner[ids].tolist())

    def english_exact(self, ev: np.ndarray, rowids: set[int]) -> dict[int, tuple[float, float, float]]:
        """rowid -> (English score, lead passage cosine, best passage cosine), for the candidates
        that have English passages.

        As with USE's whole-abstract and best-sentence views, two views of a long abstract: the
        lead passage (title and opening: what the paper is about) and its best passage (where a
        detail is); the lead weight was measured on the dev sets (bench/tune.py).
        """
        rows = np.fromiter(rowids, dtype=np.int64, count=len(rowids))
        r = np.asarray(self.english.ranges)[rows]
        rows, r = rows[r[:, 1] > 0], r[r[:, 1] > 0]
        if len(rows) == 0:
            return {}
        best = _range_max(self.english.matrix, r[:, 0], r[:, 1], ev)
        lead = self.english.matrix[r[:, 0]] @ ev
        score = self.weights.lead_weight * lead + (1 - self.weights.lead_weight) * best
        return {int(rid): (float(a), float(b), float(c)) for rid, a, b, c in zip(rows, score, lead, best, strict=True)}

    def english_weight_for(self, query: str) -> float:
        """The English leg's share in hybrid fusion: an English query is read by MiniLM as typed; a
        Chinese one only through the keywords we derive from it, a noisier reading (own weight)."""
        from corpus.text import detect_lang

        return self.weights.english_weight_zh if detect_lang(query) == "zh" else self.weights.english_weight

    def english_query(self, query: str, lq=None, mode: str = "hybrid") -> np.ndarray | None:
        """The English leg's query vector for `query` in `mode`, or None where the leg takes no part."""
        if self.english is None:
            if mode == "english":
                raise ValueError("--mode english: this index has no English leg; rebuild it with --english")
            return None
        if mode not in ("hybrid", "english") or (mode == "hybrid" and self.english_weight_for(query) <= 0):
            return None
        text = self.english_text(query, lq)
        return self.english.encode(text) if text is not None else None

    def leg_scores(self, query: str, qv: np.ndarray, k: int, allowed: np.ndarray | None,
                   mode: str = "hybrid", lq=None, english: Future | None = None) -> LegScores:
        """Candidates of the legs `mode` ranks by, each scored exactly on every leg that applies.

        Hybrid takes the union of every leg's candidates, so a record found by one leg alone is
        still scored by the others (no leg ranks on half its evidence). `lq` is the analysed
        query where the caller has it; `english` the English query vector already being encoded
        (`search` starts it beside USE's), else it is encoded here.
        """
        lex = None
        coverage = 0.0
        lexical_top: list[int] = []
        candidates: set[int] = set()
        if mode in ("hybrid", "lexical"):
            if lq is None:
                from search.query import analyse

                lq = analyse(query)
            lex, coverage = self.lexical_leg(lq, allowed)
            n = min(len(lex), max(LEXICAL_CANDIDATES, k))
            top = np.argpartition(-lex, n - 1)[:n] if n < len(lex) else np.arange(len(lex))
            lexical_top = [int(i) for i in top if np.isfinite(lex[i]) and lex[i] > 0]
            candidates |= set(lexical_top)
        if mode in ("hybrid", "dense"):
            candidates |= self.dense_candidates(qv, k, allowed)
        ev = english.result() if english is not None else self.english_query(query, lq, mode)
        if ev is not None:
            candidates |= self.english_candidates(ev, k, allowed)
        dense = {rid: s[0] for rid, s in self.dense_exact(qv, candidates).items()}
        lexical = {rid: float(lex[rid]) for rid in candidates} if lex is not None else {}
        english_views = self.english_exact(ev, candidates) if ev is not None else {}
        english_scores = {rid: v[0] for rid, v in english_views.items()}
        return LegScores(dense, lexical, english_scores, lexical_top, coverage, english_views)

    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
               snippets: bool = True) -> list[Hit]:
        """Top-k records for `query`. mode: hybrid (default), dense (USE), lexical (BM25) or english (MiniLM).

        snippets=False skips picking each hit's best sentence (evaluation needs ranks only).
        """
        query = query.strip()
        if not query:
            raise ValueError("empty query: type some words, e.g. oncosearch search \"CAR-T cytokine release\"")
        if mode not in MODES:
            raise ValueError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
        allowed = self.allowed_rowids(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        lq = None
        if mode in ("hybrid", "lexical"):
            from search.query import analyse

            lq = analyse(query)
        # MiniLM and USE are independent: with a core free, the English encode (the larger of the
        # two) runs beside USE's encode and the lexical and USE candidate searches.
        english = self._background.submit(self.english_query, query, lq, mode) \
            if self.english is not None and mode in ("hybrid", "english") else None
        qv = self.encoder.encode([query])[0]  # in every mode: the snippet is the best USE sentence
        legs = self.leg_scores(query, qv, k, allowed, mode, lq, english)
        if mode == "dense":
            final = legs.dense
        elif mode == "lexical":
            final = {rid: legs.lexical[rid] for rid in legs.lexical_top}
        elif mode == "english":
            final = legs.english
        else:
            w = self.weights
            final = fuse(legs.dense, legs.lexical, w.dense_weight, w.confidence, legs.coverage ** w.coverage_power,
                         legs.english, self.english_weight_for(query))
        explain = {"dense": _ranks(legs.dense)}
        if legs.lexical:
            explain["lexical"] = _ranks(legs.lexical)
        if legs.english:
            explain["english"] = _ranks(legs.english)
        top = sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return self._hits(top, qv, explain, snippets)

    def _snippet(self, rowid: int, qv: np.ndarray) -> tuple[str, str]:
        """The record's abstract sentence closest to the query (titles are shown apart), and its language."""
        _, _, _, start, count = self._ranges[rowid]
        sentences = [s for s in self.store.sentences_in(int(start), int(count)) if s[2] > 0]
        if not sentences:
            rec = self.store.get([rowid])[rowid].record
            lang = rec.langs[0] if rec.langs else "en"
            return (rec.abstract.get(lang) or rec.title.get(lang, ""))[:300], lang
        vids = np.array([s[0] for s in sentences], dtype=np.int64)
        scores = self._sent_matrix[vids] @ qv
        best = sentences[int(scores.argmax())]
        return best[3], best[1]

    def _hits(self, top: list[tuple[int, float]], qv: np.ndarray, legs: dict[str, dict[int, tuple[int, float]]],
              snippets: bool = True) -> list[Hit]:
        records = self.store.get([rid for rid, _ in top])
        hits = []
        for rank, (rowid, score) in enumerate(top, 1):
            stored: StoredRecord = records[rowid]
            snippet, lang = self._snippet(rowid, qv) if snippets else ("", "")
            explain = {leg: {"rank": v[rowid][0], "score": round(float(v[rowid][1]), 4)}
                       for leg, v in legs.items() if rowid in v}
            hits.append(Hit(rank, score, stored.record, snippet, lang, explain))
        return hits

    def get(self, key: str) -> StoredRecord | None:
        return self.store.find(key)


def _single_query_threads() -> None:
    """One query at a time gains nothing from OpenMP threads and loses to their wake-ups on a busy
    2-core machine (measured: p50 118 ms with 2 threads vs 80 ms with 1 on the sample index)."""
    import faiss
    from threadpoolctl import threadpool_limits

    from index.encoders import query_threads

    threads = query_threads()
    faiss.omp_set_num_threads(threads)
    # Process-wide, and the same count both query encoders ask for: each sets its BLAS limit around
    # its own call and restores the previous one, which is a no-op once they agree, so the two can
    # encode at the same time (`search`) without undoing each other's setting.
    threadpool_limits(threads, user_api="blas")


def fuse(dense: dict[int, float], lexical: dict[int, float], dense_weight: float,
         confidence: float = 0.0, lexical_trust: float = 1.0, english: dict[int, float] | None = None,
         english_weight: float = 0.0) -> dict[int, float]:
    """Convex combination of min-max normalised leg scores over the candidate set.

    Unlike reciprocal-rank fusion, a leg that separates its top answer clearly keeps that margin,
    so a near-perfect leg is not dragged down by the other's noise. `confidence` shifts weight
    per query toward the leg whose top answer stands further ahead of its runner-up (margin of
    the normalised scores); 0 keeps the fixed weights. `lexical_trust` (0..1) scales the lexical
    weight for this query (its vocabulary coverage). A query with no lexical match (all BM25
    scores 0) is ranked by the dense leg alone.
    """
    def norm(scores: dict[int, float]) -> dict[int, float]:
        if not scores:
            return {}
        lo, hi = min(scores.values()), max(scores.values())
        span = hi - lo
        return {rid: (s - lo) / span if span > 0 else 0.0 for rid, s in scores.items()}

    def margin(scores: dict[int, float]) -> float:
        top = sorted(scores.values(), reverse=True)[:2]
        return top[0] - top[1] if len(top) == 2 else 0.0

    d, lx = norm(dense), norm(lexical)
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
    e = norm(english)
    return {rid: (1 - english_weight) * two.get(rid, 0.0) + english_weight * e.get(rid, 0.0)
            for rid in two.keys() | e.keys()}


def _ranks(scores: dict[int, float]) -> dict[int, tuple[int, float]]:
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return {rid: (i + 1, s) for i, (rid, s) in enumerate(ordered)}


def _range_max(matrix: np.ndarray, starts: np.ndarray, counts: np.ndarray, qv: np.ndarray) -> np.ndarray:
    """Max over each range [start, start+count) of matrix @ qv; 0 for empty ranges."""
    out = np.zeros(len(starts), dtype=np.float32)
    nonempty = counts > 0
    if not nonempty.any():
        return out
    ids = _expand_ranges(starts[nonempty], counts[nonempty])
    sims = matrix[ids] @ qv
    offsets = np.concatenate(([0], np.cumsum(counts[nonempty])[:-1]))
    out[nonempty] = np.maximum.reduceat(sims, offsets)
    return out


def _expand_ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenate the integer ranges [start, start+count) (vector ids of allowed records)."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return offsets + np.arange(total, dtype=np.int64)
