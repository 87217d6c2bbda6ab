"""The query path: allowed records → legs → fusion → hits.

A `Searcher` holds one opened index (`index.storage.Storage`: the generation that was current
when it was opened) and its legs (`search.legs`): dense (USE), lexical (BM25) and, where the
index has it, english (MiniLM). For one `Query`:

1. the filters, and the query's own field terms, phrases and exclusions (`search.syntax`), become
   an allow-list of records, evaluated by the storage before any ranking; a query with nothing
   left to rank (only fields and phrases) lists the allowed records newest first and stops here;
2. the legs that rank in this mode read the query and propose candidates (`--mode hybrid`: all
   of them, pooled; `--mode NAME`: that leg alone);
3. every candidate is scored exactly by every leg taking part, and by the dense leg in every
   mode (its best sentence is the snippet, and `--explain` shows its rank);
4. hybrid mode fuses the legs' scores (`search.fusion`); a single-leg mode ranks by that leg;
5. the top k become hits with their best sentence and each leg's rank.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from corpus.record import Record
from index.errors import ModelMismatch
from index.lexical.phrases import Phrase, fold
from index.models.encoders import ModelSpec, single_query_process
from index.storage import Filters, Storage, open_generation
from index.storage.base import PASSAGES
from index.storage.store import StoredRecord
from search.errors import QueryError
from search.fusion import THREE_LEGS, TWO_LEGS, FusionWeights, fuse
from search.legs import Leg, LegResult
from search.legs.dense import DOC_WEIGHT, DenseLeg
from search.legs.english import EnglishLeg
from search.legs.lexical import LexicalLeg
from search.query import ZH_ENGLISH, Query

__all__ = ["DOC_WEIGHT", "LANGS", "MODES", "Evidence", "Filters", "Hit", "Searcher"]

LANGS = ("any", "zh", "en")
MODES = ("hybrid", "dense", "lexical", "english")  # hybrid fuses the legs; the others are one leg alone
DEPTH_TIERS = (20, 50, 100, 200, 500, 1000)  # candidate pools are sized for one of these depths
MAX_DEPTH = DEPTH_TIERS[-1]


@dataclass
class Evidence:
    """What the legs said about one query: each leg's reading of it, its own candidates, and its
    exact scores over all candidates. Fusion (or a tuning grid) ranks from here."""

    query: Query
    states: dict[str, Any]  # leg name -> the leg's reading of the query (e.g. the encoded vector)
    proposed: dict[str, set[int]]  # leg name -> the candidates that leg proposed
    results: dict[str, LegResult]  # leg name -> scores over every candidate, in the engine's leg order

    def scores(self) -> dict[str, dict[int, float]]:
        return {name: r.scores for name, r in self.results.items()}


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
            "snippet": self.snippet, "has_abstract": r.has_abstract(),  # false: title-only, snippet is its title
        }


class Searcher:
    """Ranked search over one opened index: a directory (opened and verified here) or a `Storage`."""

    def __init__(self, index: Path | Storage, model: str | None = None, doc_weight: float = DOC_WEIGHT,
                 weights: FusionWeights | None = None, zh_english: bool = ZH_ENGLISH, syntax: bool = True):
        self.storage = index if isinstance(index, Storage) else open_generation(Path(index))
        if model is not None:
            asked = ModelSpec.parse(model).model_id
            if asked != self.storage.manifest.model_id:
                raise ModelMismatch(self.storage.manifest.model_id, asked)
        single_query_process()
        self.zh_english = zh_english
        self.syntax = syntax  # read query syntax (phrases, -word, fields); off: text is plain (evaluation)
        has_english = self.storage.field(PASSAGES) is not None
        self.weights = weights or (THREE_LEGS if has_english else TWO_LEGS)
        legs: list[Leg] = [DenseLeg(self.storage, doc_weight), LexicalLeg(self.storage)]
        if has_english:
            legs.append(EnglishLeg(self.storage, self.weights.lead_weight))
        self.legs: dict[str, Leg] = {leg.name: leg for leg in legs}

    @property
    def manifest(self):
        return self.storage.manifest

    @property
    def dense(self) -> DenseLeg:
        return self.legs["dense"]  # type: ignore[return-value]

    @property
    def english(self) -> EnglishLeg | None:
        return self.legs.get("english")  # type: ignore[return-value]

    @cached_property
    def _background(self) -> ThreadPoolExecutor:
        """One worker thread for a slow leg's `prepare` (numpy and BLAS release the GIL)."""
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="oncosearch-leg")

    def query(self, text: str | Query) -> Query:
        """`text` read as a `Query` under this searcher's settings (a `Query` is taken as it is)."""
        return text if isinstance(text, Query) else Query.parse(text, zh_english=self.zh_english, syntax=self.syntax)

    def ranking_legs(self, mode: str, query: Query) -> list[str]:
        """The legs whose candidates count in `mode` (hybrid: every leg fusion gives a say for this query)."""
        if mode not in MODES:
            raise QueryError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
        if mode == "hybrid":
            return [name for name in self.legs if self.weights.takes_part(name, query.lang, query.short)]
        if mode not in self.legs:
            raise QueryError(f"mode {mode}: this index has no English leg (it was built without it)")
        return [mode]

    def search(self, query: str | Query, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
               snippets: bool = True, offset: int = 0) -> list[Hit]:
        """Results offset+1 .. offset+k for `query`. mode: hybrid (default), dense (USE), lexical
        (BM25) or english (MiniLM).

        Pages are slices of one ranking: the legs' candidate pools are sized by `page_depth`, so
        every page that ends within the same depth tier is ranked from the same pool.
        snippets=False skips picking each hit's best sentence (evaluation needs ranks only).

        The query's own field terms, phrases and exclusions narrow `filters` further (intersection);
        a query with no free text lists the records they allow, newest first (`listing`).
        """
        if offset < 0 or offset + k > MAX_DEPTH:
            raise QueryError(f"offset {offset} + k {k}: results are ranked to depth {MAX_DEPTH} at most")
        q = self.query(query)
        if not q.text and not q.restricted:
            raise QueryError("empty query: type some words")
        self.ranking_legs(mode, q)  # an unknown mode or a missing leg is refused before any work
        allowed = self.allowed(q, filters)
        if allowed is not None and len(allowed) == 0:
            return []
        if not q.text:
            return self.listing(q, allowed, k, offset, snippets)
        evidence = self.evidence(q, page_depth(offset + k), allowed, mode)
        final = self.rank(evidence, mode)
        top = sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[offset:offset + k]
        return self.hits(top, evidence, snippets, first_rank=offset + 1)

    def allowed(self, query: Query, filters: Filters | None = None) -> np.ndarray | None:
        """Rowids that pass `filters`, the query's field terms, and its phrases and exclusions (all of
        them), evaluated by the storage before any ranking; None when nothing restricts."""
        allowed = self.storage.allowed(filters)
        if not query.filters.empty:
            own = self.storage.allowed(query.filters)
            if own is not None:
                allowed = own if allowed is None else np.intersect1d(allowed, own)
        if query.phrases or query.excluded:
            allowed = self.storage.containing(query.phrases, query.excluded, allowed)
        return allowed

    def listing(self, query: Query, allowed: np.ndarray | None, k: int = 10, offset: int = 0,
                snippets: bool = True) -> list[Hit]:
        """Records offset+1 .. offset+k of `allowed`, newest first, for a query of fields and phrases
        only (nothing to rank by). A listing has no scores (0.0) and no legs; each snippet is the
        first abstract sentence holding one of the query's phrases, else the first sentence, else
        the title."""
        rows = self.storage.newest(allowed, offset + k)[offset:].tolist()
        records = self.storage.get(rows)
        phrases = [Phrase(p) for p in query.phrases]
        hits = []
        for rank, row in enumerate(rows, offset + 1):
            record = records[row].record
            snippet, lang = self._listing_snippet(row, record, phrases) if snippets else ("", "")
            hits.append(Hit(rank, 0.0, record, snippet, lang))
        return hits

    def _listing_snippet(self, row: int, record: Record, phrases: list[Phrase]) -> tuple[str, str]:
        sentences = self.storage.sentences(row)
        for s in sentences:
            if phrases and any(p.in_text(fold(s.text)) for p in phrases):
                return s.text, s.lang
        if sentences:
            return sentences[0].text, sentences[0].lang
        lang = next((lang for lang in ("zh", "en") if record.title.get(lang)), "")
        return record.title.get(lang, ""), lang

    def evidence(self, query: Query, k: int = 10, allowed: np.ndarray | None = None, mode: str = "hybrid"
                 ) -> Evidence:
        """Every taking-part leg's reading of `query`, its candidates, and exact scores of the pooled
        candidates on every leg that applies (steps 2 and 3 of the module docstring)."""
        ranking = self.ranking_legs(mode, query)
        if "lexical" in ranking:
            query.lexical  # noqa: B018  analysed here, before a background leg reads the same Query
        pending = {name: self._background.submit(self.legs[name].prepare, query, allowed)
                   for name in ranking if self.legs[name].background}
        states: dict[str, Any] = {"dense": self.dense.prepare(query, allowed)}  # every mode: snippets, explain
        proposed: dict[str, set[int]] = {}
        for name in ranking:
            if name in pending:
                states[name] = pending[name].result()
            elif name not in states:
                states[name] = self.legs[name].prepare(query, allowed)
            if states[name] is not None:
                proposed[name] = self.legs[name].candidates(states[name], k, allowed)
        candidates: set[int] = set().union(*proposed.values())
        results = {name: leg.scores(states[name], candidates) for name, leg in self.legs.items()
                   if states.get(name) is not None and (name == "dense" or name in ranking)}
        return Evidence(query, states, proposed, results)

    def rank(self, evidence: Evidence, mode: str) -> dict[int, float]:
        """Final scores: fused in hybrid mode, the one leg's otherwise."""
        if mode == "hybrid":
            lexical = evidence.results.get("lexical")
            return fuse(evidence.scores(), self.weights, evidence.query.lang,
                        lexical.coverage if lexical is not None else 1.0, evidence.query.short)
        result = evidence.results.get(mode)
        return result.scores if result is not None else {}

    def hits(self, top: list[tuple[int, float]], evidence: Evidence, snippets: bool = True,
             first_rank: int = 1) -> list[Hit]:
        """`Hit`s for ranked (rowid, score) pairs: records, best sentences, each leg's rank (step 5)."""
        explain = {name: _ranks(r.scores) for name, r in evidence.results.items() if r.scores or name == "dense"}
        records = self.storage.get([rid for rid, _ in top])
        qv = evidence.states["dense"]
        hits = []
        for rank, (rowid, score) in enumerate(top, first_rank):
            stored: StoredRecord = records[rowid]
            snippet, lang = self.dense.snippet(rowid, qv, stored.record) if snippets else ("", "")
            legs = {leg: {"rank": v[rowid][0], "score": round(float(v[rowid][1]), 4)}
                    for leg, v in explain.items() if rowid in v}
            hits.append(Hit(rank, score, stored.record, snippet, lang, legs))
        return hits

    def get(self, key: str) -> StoredRecord | None:
        """A record by id, PMID or DOI."""
        return self.storage.find(key)

    def adopt_models(self, other: Searcher) -> None:
        """Reuse `other`'s loaded query models where its legs read queries with the same ones
        (a long-running process moving to the next generation of one index)."""
        for name, leg in self.legs.items():
            if name in other.legs:
                leg.adopt_model(other.legs[name])

    def close(self) -> None:
        """Release the generation (its store; vectors go with the last reference) and the
        background thread. For a process that outlives generations; a command just exits."""
        if "_background" in self.__dict__:
            self._background.shutdown(wait=True)
        self.storage.close()


def page_depth(depth: int) -> int:
    """The depth the legs' candidate pools are sized for: `depth` rounded up to a tier, so that
    consecutive pages (offset 0, 10, 20, ...) are cut from the same ranking."""
    return next((tier for tier in DEPTH_TIERS if tier >= depth), MAX_DEPTH)


def _ranks(scores: dict[int, float]) -> dict[int, tuple[int, float]]:
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return {rid: (i + 1, s) for i, (rid, s) in enumerate(ordered)}
