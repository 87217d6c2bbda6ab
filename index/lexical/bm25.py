"""The lexical leg: BM25 (bm25s) over jieba / stemmed-English tokens of every record.

One BM25 document per record: titles, abstracts and keywords of all its languages, tokenized
by `index.lexical.tokenize.tokenize` (the same function the query goes through). Stored in the
generation's ``bm25/`` folder and written with it, so it is always in step with the vectors.

The vocabulary (token -> column) is also written as a read-only SQLite table, ``vocab.sqlite``
(index/storage/disk_table.py): a query looks up a dozen tokens, and parsing bm25s's JSON vocabulary
whole took 70 ms of a cold search at 20k abstracts (116k terms). Generations written before it
existed are read from the JSON as before.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from corpus.record import Record
from index.lexical.tokenize import tokenize

FOLDER = "bm25"
VOCAB_TABLE = "vocab.sqlite"
K1, B = 1.2, 0.75  # BM25 defaults (Robertson); bm25s "lucene" variant


def record_tokens(record: Record) -> list[str]:
    tokens: list[str] = []
    for lang in record.langs:
        tokens += tokenize(record.text(lang), lang)
    if record.keywords:
        tokens += tokenize("; ".join(record.keywords))
    return tokens or ["<empty>"]


def idf(df: int, num_docs: int) -> float:
    """bm25s's "lucene" IDF of a term held by `df` of `num_docs` records."""
    return math.log(1 + (num_docs - df + 0.5) / (df + 0.5))


def tf_part(tf: int, dl: int, avgdl: float) -> float:
    """bm25s's "lucene" term-frequency part for a term seen `tf` times in a record of `dl` tokens:
    a precomputed score is ``idf × tf_part``. (Split so that a store can keep the part that does not
    move when other records arrive: index/storage/milvus.)"""
    return tf / (tf + K1 * (1 - B + B * dl / avgdl))


def write_lexical(generation: Path, records: list[Record]) -> list[str]:
    """Build and save the BM25 index for `records` (rowid order); return the files written."""
    import logging

    import bm25s

    # bm25s sets its own logger to DEBUG when first imported, undoing the CLI's quieting of it: its
    # "Building index from tokens" line would reach a cron job's mail on every build and update
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    corpus_tokens = [record_tokens(r) for r in records]
    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    retriever.index(corpus_tokens, show_progress=False)
    folder = generation / FOLDER
    retriever.save(str(folder), show_progress=False)
    import json

    from index.storage.disk_table import write_table

    vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))  # exactly what bm25s saved
    write_table(folder / VOCAB_TABLE, vocab.items())
    return sorted(str(p.relative_to(generation)) for p in folder.iterdir() if p.is_file())


class LexicalIndex:
    """Read side: BM25 scores of every record for a token list.

    Reads the arrays bm25s saved (its precomputed per-term scores as a CSC matrix: for term t,
    records ``indices[indptr[t]:indptr[t+1]]`` with scores ``data[...]``) straight with numpy,
    memory-mapped: importing bm25s pulls in scipy.sparse, about half a second of a cold search,
    to sum a few short columns. Scores equal bm25s's own ``get_scores`` (tests/lexical).
    """

    def __init__(self, generation: Path):
        import json

        folder = generation / FOLDER
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: missing")
        params = json.loads((folder / "params.index.json").read_text())
        self._num_docs = int(params["num_docs"])
        if (folder / VOCAB_TABLE).exists():
            from index.storage.disk_table import DiskTable

            table = DiskTable(folder / VOCAB_TABLE)
            self.vocab: Mapping[str, int] = table
            vocab_size = int(table.meta["rows"])
        else:
            self.vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
            vocab_size = len(self.vocab)
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(folder / "indptr.csc.index.npy", mmap_mode="r")
        # bm25s keeps an empty-string entry in its vocabulary without a column of its own
        self._columns = len(self.indptr) - 1
        if self._columns < vocab_size - 1 or len(self.data) != len(self.indices):
            raise ValueError(f"{folder}: {self._columns} term columns for {vocab_size} terms")

    @property
    def num_docs(self) -> int:
        return self._num_docs

    def coverage(self, tokens: list[str], weights: list[float]) -> float:
        """Share of the query's token weight that the index vocabulary knows (0..1).

        An English query against Chinese records (or the reverse) matches only stray Latin
        abbreviations; a low coverage tells fusion to trust this leg less for that query.
        """
        total = sum(weights)
        return sum(w for t, w in zip(tokens, weights, strict=True) if t in self.vocab) / total if total else 0.0

    def document_frequency(self, tokens: list[str]) -> list[int]:
        """How many records hold each token (0 for a token the vocabulary does not know)."""
        out = []
        for tok in tokens:
            tid = self.vocab.get(tok)
            out.append(int(self.indptr[tid + 1]) - int(self.indptr[tid]) if tid is not None and tid < self._columns
                       else 0)
        return out

    def scores(self, tokens: list[str], weights: list[float] | None = None) -> np.ndarray:
        """BM25 score of every record; `weights` scale each query token (expansion terms weigh less)."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        if weights is None:
            weights = [1.0] * len(tokens)
        for tok, w in zip(tokens, weights, strict=True):
            tid = self.vocab.get(tok)
            if tid is None or tid >= self._columns:
                continue
            start, end = int(self.indptr[tid]), int(self.indptr[tid + 1])
            out[self.indices[start:end]] += np.float32(w) * self.data[start:end]  # a term lists each record once
        return out
