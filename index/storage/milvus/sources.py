"""What a write into a Milvus pool reads: the generation's record keys, and the records, vectors
and BM25 document frequencies of the rows it writes.

Two kinds of generation are written into a pool (writer.PoolWriter):

- `LocalSource`: a finished local generation (FAISS + SQLite + BM25), the mirror of an index that
  keeps its local files. Every record is there; the writer reads only the rows it writes.
- `DeltaSource`: a generation that lives only in Milvus (``--milvus-only``). Its folder holds its
  manifest alone; its records are the versions the pool already holds plus a local generation of
  just the records the pool lacks, built in scratch space by the same code as a full build
  (chunks, the embedding cache, tags, BM25 tokens, English passages). So a nightly update embeds,
  tokenizes and sends only what is new, and nothing grows with the corpus but the key list.
  Document frequencies are the previous epoch's plus the new versions' minus the retired ones'
  (the writer counts them); there are no local BM25 files to read them from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from index.errors import DamagedIndex
from index.storage.base import DOCS, PASSAGES, SENTENCES
from index.storage.layout import IndexLayout
from index.storage.local import LocalField, LocalGeneration
from index.storage.manifest import Manifest
from index.storage.milvus import schema
from index.storage.store import StoredRecord

Counts = tuple[int, int, int]  # a version's docs, sentences, passages
VectorRow = tuple[int, int, np.ndarray, str, tuple[int, str] | None]  # row, offset, vector, lang, (position, text)


class LocalSource:
    """A finished local generation, read a batch at a time."""

    def __init__(self, local: LocalGeneration):
        self.local = local
        self.name, self.path, self.manifest, self.layout = local.name, local.path, local.manifest, local.layout
        self.fields: dict[str, LocalField] = {k: f for k in schema.VECTOR_FIELDS if (f := local.field(k)) is not None}
        self._counts: dict[str, np.ndarray] = {}

    @property
    def kinds(self) -> list[str]:
        return list(self.fields)

    def dims(self) -> dict[str, tuple[int, str]]:
        """Each vector field's dimension and local index kind (flat or hnsw), for a new pool."""
        return {k: (f.dim, f.kind) for k, f in self.fields.items()}

    def keys(self) -> list[tuple[str, str]]:
        """(id, content hash) of every record, in rowid order."""
        return [(rid, chash) for rid, chash, _ in self.local.record_keys()]

    def holds(self, row: int) -> bool:
        return True

    def moved(self) -> list[tuple[int, StoredRecord]]:
        """Records whose version the pool holds but which were read from another file: none here
        (a local generation is mirrored as a whole; its sources are the store's)."""
        return []

    def stored(self, rows: list[int], batch: int = 2048) -> Iterator[tuple[int, StoredRecord, Counts]]:
        """The records at `rows` (ascending) with their vector counts, read a batch at a time: a
        write holds no more of the generation's text in memory than a batch."""
        for i in range(0, len(rows), batch):
            part = rows[i:i + batch]
            got = self.local.get(part)
            for r in part:
                yield r, got[r], self._counts_of(r)

    def _counts_of(self, row: int) -> Counts:
        if not self._counts:
            self._counts = {kind: np.asarray(f.counts(np.arange(self.local.records)), dtype=np.int64)
                            for kind, f in self.fields.items()}
        return tuple(int(self._counts[k][row]) if k in self._counts else 0 for k in schema.VECTOR_FIELDS)

    def vectors(self, kind: str, rows: list[int]) -> Iterator[VectorRow]:
        """Every `kind` vector of the records at `rows`, with its language (and a sentence's text)."""
        f = self.fields[kind]
        langs = _vector_langs(self.local, kind, f.size)
        for r in rows:
            start, count = int(f.starts[r]), int(f.counts(np.array([r]))[0])
            texts = _sentence_texts(self.local, start, count) if kind == SENTENCES else None
            for o in range(count):
                yield r, o, np.asarray(f.matrix[start + o], dtype=np.float32), langs[start + o], \
                    (tuple(texts[o]) if texts is not None else None)

    def frequencies(self) -> dict[str, int] | None:
        """Each term's document frequency, from the generation's BM25 files."""
        from index.lexical.bm25 import FOLDER

        vocab = json.loads((self.path / FOLDER / "vocab.index.json").read_text(encoding="utf-8"))
        indptr = np.asarray(self.local.terms.indptr)
        # every term with a column ("" too where a record's tokens hold it; bm25s's own "" entry has none)
        return {t: int(indptr[c + 1] - indptr[c]) for t, c in vocab.items() if c < len(indptr) - 1}

    def close(self) -> None:
        self.local.close()


class DeltaSource:
    """A generation whose records live only in Milvus: its keys in order, and `delta`, a local
    generation of the records at `new_rows` (in that order) that the pool lacks."""

    def __init__(self, generation_dir: Path, keys: list[tuple[str, str]], new_rows: list[int],
                 delta: LocalGeneration | None, moved: dict[int, StoredRecord] | None = None):
        self.path = Path(generation_dir)
        self.name = self.path.name
        self.layout = IndexLayout(self.path.parent.parent)
        self.manifest = Manifest.read(self.path)
        self._keys, self.delta, self._moved = keys, delta, moved or {}
        self._at = {r: d for d, r in enumerate(new_rows)}  # row -> the delta's rowid
        self._inner = LocalSource(delta) if delta is not None else None
        if len(new_rows) != (delta.records if delta is not None else 0):
            raise DamagedIndex(f"{self.path}: {len(new_rows)} new records, the scratch generation holds "
                               f"{delta.records if delta is not None else 0}")

    @property
    def kinds(self) -> list[str]:
        english = bool(self.manifest.settings.get("english_model"))
        return [DOCS, SENTENCES, *([PASSAGES] if english else [])]

    def dims(self) -> dict[str, tuple[int, str]]:
        if self._inner is None:
            return {}  # nothing new: the pool's collections exist already
        return self._inner.dims()

    def keys(self) -> list[tuple[str, str]]:
        return self._keys

    def holds(self, row: int) -> bool:
        """Whether the record at `row` is in the scratch generation (else only the pool has it)."""
        return row in self._at

    def moved(self) -> list[tuple[int, StoredRecord]]:
        """Records whose version the pool holds, read now from another file than the pool says."""
        return sorted(self._moved.items())

    def stored(self, rows: list[int], batch: int = 2048) -> Iterator[tuple[int, StoredRecord, Counts]]:
        back = {d: r for r, d in self._at.items()}
        for d, s, counts in self._inner.stored([self._at[r] for r in rows], batch) if rows else ():
            yield back[d], s, counts

    def vectors(self, kind: str, rows: list[int]) -> Iterator[VectorRow]:
        if not rows:
            return
        back = {d: r for r, d in self._at.items()}
        for d, o, vector, lang, text in self._inner.vectors(kind, [self._at[r] for r in rows]):
            yield back[d], o, vector, lang, text

    def frequencies(self) -> dict[str, int] | None:
        return None  # counted by the writer from the previous epoch's and the versions it adds and retires

    def close(self) -> None:
        if self.delta is not None:
            self.delta.close()


def _vector_langs(local: LocalGeneration, kind: str, size: int) -> list[str]:
    """Each vector's language: the store's docs and sentences tables; passages are English."""
    if kind == PASSAGES:
        return ["en"] * size
    table = "docs" if kind == DOCS else "sentences"
    langs = [lang for (lang,) in local.store.conn.execute(f"SELECT lang FROM {table} ORDER BY vid")]
    if len(langs) != size:
        raise DamagedIndex(f"{local.store.path}: {len(langs)} rows in {table}, {size} vectors")
    return langs


def _sentence_texts(local: LocalGeneration, start: int, count: int) -> list[tuple[int, str]]:
    rows = local.store.conn.execute("SELECT position, text FROM sentences WHERE vid >= ? AND vid < ? ORDER BY vid",
                                    (start, start + count)).fetchall()
    if len(rows) != count:
        raise DamagedIndex(f"{local.store.path}: {len(rows)} sentences at {start}, {count} sentence vectors")
    return rows
