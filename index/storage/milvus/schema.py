"""The Milvus collections of one generation: their names, fields and indexes.

Per generation (``oncosearch_<generation>_<part>``; Milvus names allow only letters, digits and
``_``):

- ``records``: one row per record, primary key the rowid. Every filter as a scalar field
  (year, has_zh/has_en/has_abstract, journal/pub_types/authors lowercased for ``like``, therapy
  and cancer tag arrays, pmid, doi, id), the record itself as JSON (what ``show`` prints), each
  record's runs in the vector collections, and ``terms``: the record's BM25 row as a sparse
  vector (see docs/milvus.md for why the lexical leg is sparse inner product).
- ``docs``, ``sentences``, ``passages``: one row per vector, primary key the vector's id in the
  local generation (so a record's run is the ids ``[start, start + count)``), with its ``rowid``
  and ``offset`` in the run; sentences also carry their language, position and text (snippets).
- ``vocab``: one row per BM25 term: its column in the sparse vectors and its document frequency.
  Milvus wants a vector field in every collection: ``unit`` is the term's own one-hot column.

The generation's manifest and a "complete" mark are properties of its ``records`` collection;
the mark is set last, so a half-written mirror is never opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.storage.base import DOCS, PASSAGES, SENTENCES

PREFIX = "oncosearch"
LIMIT = 16384  # a Milvus server's most rows per search or query (topk, offset + limit)
TEXT_MAX = 65535  # a VARCHAR's most bytes
SHORT_MAX = 1024
TAGS_MAX = 256  # most tags of one category on a record
VECTOR_FIELDS = (DOCS, SENTENCES, PASSAGES)

# properties of the records collection
GENERATION = "oncosearch.generation"
MANIFEST = "oncosearch.manifest"
COMPLETE = "oncosearch.complete"  # the manifest's sha256, set once every collection is written

HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80  # as index.storage.vectors builds local HNSW
INDEX_TYPE = {"flat": "FLAT", "hnsw": "HNSW"}  # the local field's kind -> Milvus's index type

# Scalar fields that get an INVERTED index. milvus-lite 3.2.2 refuses one on ARRAY fields (a
# server takes it); the writer reports each index Milvus refused and goes on without it.
INDEXED_RECORD_FIELDS = ("id", "pmid", "doi", "year", "has_zh", "has_en", "has_abstract", "therapy", "cancer")


@dataclass(frozen=True)
class Names:
    """The collection names of one generation."""

    generation: str

    @property
    def stem(self) -> str:
        return f"{PREFIX}_{re.sub(r'[^A-Za-z0-9_]', '_', self.generation)}"

    @property
    def records(self) -> str:
        return f"{self.stem}_records"

    @property
    def vocab(self) -> str:
        return f"{self.stem}_vocab"

    def vectors(self, field: str) -> str:
        assert field in VECTOR_FIELDS
        return f"{self.stem}_{field}"

    def all(self) -> list[str]:
        return [self.records, self.vocab, *(self.vectors(f) for f in VECTOR_FIELDS)]


def records_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch records: filters, the record, its runs, its BM25 row")
    s.add_field("rowid", DataType.INT64, is_primary=True)
    for name in ("id", "pmid", "doi"):
        s.add_field(name, DataType.VARCHAR, max_length=SHORT_MAX)  # "" where a record has none
    s.add_field("year", DataType.INT64, nullable=True)
    for name in ("has_zh", "has_en", "has_abstract"):
        s.add_field(name, DataType.BOOL)
    for name in ("journal_lc", "pub_types_lc", "authors_lc"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT_MAX)
    for name in ("therapy", "cancer"):
        s.add_field(name, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=TAGS_MAX, max_length=SHORT_MAX)
    s.add_field("record", DataType.JSON)  # Record.to_dict() + tags + content_hash
    for name in ("doc_start", "doc_count", "sent_start", "sent_count", "passage_start", "passage_count"):
        s.add_field(name, DataType.INT64)
    s.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
    return s


def vectors_schema(client, dim: int, sentences: bool):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch vectors: id in the generation, owner record, place in its run")
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("rowid", DataType.INT64)
    s.add_field("offset", DataType.INT64)
    s.add_field("lang", DataType.VARCHAR, max_length=8)
    if sentences:
        s.add_field("position", DataType.INT64)  # 0: a title (not a snippet)
        s.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
    s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return s


def vocab_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch BM25 vocabulary: term -> sparse column, document frequency")
    s.add_field("term", DataType.VARCHAR, is_primary=True, max_length=SHORT_MAX)
    s.add_field("column", DataType.INT64)
    s.add_field("df", DataType.INT64)
    s.add_field("unit", DataType.SPARSE_FLOAT_VECTOR)
    return s


def sparse_index(client, field: str):
    params = client.prepare_index_params()
    params.add_index(field, index_type="SPARSE_INVERTED_INDEX", metric_type="IP", params={"drop_ratio_build": 0.0})
    return params


def dense_index(client, kind: str):
    params = client.prepare_index_params()
    index_type = INDEX_TYPE.get(kind, "HNSW")
    extra = {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION} if index_type == "HNSW" else {}
    params.add_index("vector", index_type=index_type, metric_type="IP", params=extra)
    return params
