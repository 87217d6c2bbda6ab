"""Similar records: the records most like one record of the index, in either language.

PubMed's "Similar articles" and Lucene's MoreLikeThis score from the paper itself, not from a
query someone typed. So does this: every leg reads the record from what the index stored for it,
and the legs' scores are fused exactly as for a typed query (`search.fusion.fuse`):

- dense (USE): the mean of the record's document vectors (one per language it has), a point in
  the one space both languages share, so a Chinese paper reaches its English neighbours and the
  reverse; its snippet is each neighbour's sentence closest to that point;
- lexical (BM25): the record's own indexed terms (`index.lexical.bm25.record_tokens`, the tokens
  its BM25 document holds), each weighted by tf × idf, the strongest `TERMS` of them; plus, at a
  lower weight, both languages' glossary terms of the concepts the record is tagged with (its
  therapies and cancers), the bridge BM25 has between Chinese and English records;
- english (MiniLM): the mean of the record's English passage vectors, where it has any.

The record itself is never a result. Records merged into it at ingest (the same PMID, DOI or
title) are not separate rows of the index, so they cannot come back either.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from index.storage import Filters
from index.storage.base import DOCS, PASSAGES
from index.storage.store import StoredRecord
from search import concepts
from search.engine import MODES, Evidence, Hit, Searcher, page_depth
from search.errors import QueryError, UnknownRecord
from search.fusion import fuse
from search.query import EXPANSION_WEIGHT, Query

TERMS = 40  # the record's strongest terms that the lexical leg searches with (MoreLikeThis uses 25)


@dataclass(frozen=True)
class Similar:
    """The record asked about and the records most like it (ranks offset+1 ..)."""

    source: StoredRecord
    query: Query  # the record's title as a query: what a table highlights in the neighbours' snippets
    hits: list[Hit]


def similar(searcher: Searcher, key: str, k: int = 10, filters: Filters | None = None, offset: int = 0,
            mode: str = "hybrid") -> Similar:
    """The `k` records most like record `key` (an id, PMID or DOI), after skipping `offset`, among
    those passing `filters`; `mode` as for a search (hybrid fuses every leg the record can feed)."""
    if mode not in MODES:
        raise QueryError(f"mode {mode!r}: choose one of {', '.join(MODES)}")
    source = searcher.get(key)
    if source is None:
        raise UnknownRecord(f"no record with id, PMID or DOI {key!r} in {searcher.storage.root}")
    allowed = searcher.storage.allowed(filters)
    if allowed is not None:
        allowed = allowed[allowed != source.rowid]
        if len(allowed) == 0:
            return Similar(source, Query.parse(source.record.id), [])
    record = source.record
    lang = "en" if "en" in record.langs else "zh"
    states = {"dense": _mean_vector(searcher, DOCS, source.rowid), "lexical": _lexical_state(searcher, source, allowed)}
    english = searcher.english
    if english is not None:
        states["english"] = _mean_vector(searcher, PASSAGES, source.rowid)
    ranking = [name for name in states if states[name] is not None
               and (name == mode or (mode == "hybrid" and searcher.weights.takes_part(name, lang)))]
    if not ranking:
        raise QueryError(f"mode {mode}: record {record.id} has nothing this leg reads (no English text)")
    depth = page_depth(offset + k) + 1  # one more: the record itself is dropped below
    proposed = {name: searcher.legs[name].candidates(states[name], depth, allowed) for name in ranking}
    candidates = set().union(*proposed.values()) - {source.rowid}
    results = {name: searcher.legs[name].scores(states[name], candidates) for name in states
               if states[name] is not None and (name == "dense" or name in ranking)}
    evidence = Evidence(Query.parse(record.title.get(lang) or record.text(lang)[:200]), states, proposed, results)
    if mode == "hybrid":
        final = fuse(evidence.scores(), searcher.weights, lang, 1.0)
    else:
        final = results[mode].scores
    top = sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[offset:offset + k]
    return Similar(source, evidence.query, searcher.hits(top, evidence, first_rank=offset + 1))


def _mean_vector(searcher: Searcher, field_name: str, row: int) -> np.ndarray | None:
    """The unit-length mean of a record's vectors in one field (None when it owns none)."""
    field = searcher.storage.field(field_name)
    if field is None:
        return None
    vectors = field.vectors(row)
    if len(vectors) == 0:
        return None
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm).astype(np.float32) if norm > 0 else None


def _lexical_state(searcher: Searcher, source: StoredRecord, allowed: np.ndarray | None):
    """The lexical leg's reading of a record: its strongest terms by tf × idf, and its concepts'
    glossary terms in both languages at the expansion weight."""
    from index.lexical.bm25 import record_tokens
    from index.lexical.tokenize import tokenize
    from search.legs.lexical import LexicalLeg

    terms = searcher.storage.terms
    counts = Counter(t for t in record_tokens(source.record) if t != "<empty>")
    if not counts:
        return None
    tokens = list(counts)
    n = max(terms.num_docs, 1)
    df = terms.document_frequency(tokens)
    weight = {t: c * math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, c, d in zip(tokens, counts.values(), df,
                                                                                 strict=True) if d > 0}
    top = sorted(weight, key=lambda t: (-weight[t], t))[:TERMS]
    if not top:
        return None
    scale = weight[top[0]]
    weights = {t: weight[t] / scale for t in top}
    glossary = concepts.glossary()
    for concept_id in (c for ids in source.tags.values() for c in ids):
        concept = glossary.concepts.get(concept_id)
        for term in (concept.zh + concept.en) if concept else ():
            for tok in tokenize(term):
                weights.setdefault(tok, EXPANSION_WEIGHT)
    scores = terms.scores(list(weights), list(weights.values()))
    scores[source.rowid] = -np.inf
    return LexicalLeg.state(scores, 1.0, allowed)
