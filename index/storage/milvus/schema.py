"""The Milvus collections of an index: their names, fields and indexes.

An index keeps its data in a *pool* per vector shape (``oncosearch_pool_<index>_<shape>_<part>``;
Milvus names allow only letters, digits and ``_``), shared by its generations and written
incrementally: a write inserts the record versions that are new and retires those gone, and leaves
the rest alone.

- ``versions``: one row per record version (its id and content hash), primary key ``vkey``: its
  ``serial`` (which names its vectors), every filter as a scalar field (year,
  has_zh/has_en/has_abstract, journal/pub_types/authors lowercased for ``like``, therapy and cancer
  tag arrays, pmid, doi, id), the file it was read from (``source``: an update's prune rule reads
  it without the text), the record itself as JSON (what ``show`` prints), its vector counts,
  its token count ``dl``, and ``terms``: the BM25 term-frequency part of each of its terms as a
  sparse vector (the query side brings the IDF; see docs/milvus.md).
- ``vocab``: one row per term and document frequency: its stable ``column`` in the sparse vectors
  and ``df``. Milvus wants a vector field in every collection: ``unit`` is the term's own column.
- ``docs``, ``sentences``, ``passages``: one row per vector of a version, primary key
  ``serial << SERIAL_SHIFT | offset`` (so a record's run is the ids ``[start, start + count)`` with
  ``start = serial << SERIAL_SHIFT``), with its serial, offset; sentences also carry their
  language, position and text (snippets).

Every pool row carries the epochs it lives in, ``[gen_from, gen_to)``. A generation's mirror has
an epoch (one above any before it in the pool) and sees the rows alive at it. Its own collection,
``oncosearch_<generation>_generation``, holds no rows: its properties name the generation, its
manifest, pool and epoch, and a "complete" mark set last, so a half-written mirror is never opened.
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

# properties of a generation's collection
GENERATION = "oncosearch.generation"
MANIFEST = "oncosearch.manifest"
POOL = "oncosearch.pool"  # the stem of the pool holding the generation's records
EPOCH = "oncosearch.epoch"  # which of the pool's rows the generation sees
COMPLETE = "oncosearch.complete"  # the manifest's sha256, set once every row is written
# properties of a pool's versions collection
NEXT_EPOCH = "oncosearch.next_epoch"
NEXT_SERIAL = "oncosearch.next_serial"
NEXT_VKEY = "oncosearch.next_vkey"
NEXT_COLUMN = "oncosearch.next_column"
AVGDL = "oncosearch.avgdl"  # the average token count the alive versions' BM25 rows were scored with

VERSION = 2  # of the pool's schema (2: versions carry their `source`); part of a pool's name
SERIAL_SHIFT = 20  # a vector's id: its version's serial << SERIAL_SHIFT | its offset in the run
ALIVE = 2**62  # gen_to of a row no generation has retired

HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80  # as index.storage.vectors builds local HNSW
INDEX_TYPE = {"flat": "FLAT", "hnsw": "HNSW"}  # the local field's kind -> Milvus's index type

# Scalar fields that get an INVERTED index. milvus-lite 3.2.2 refuses one on ARRAY fields (a
# server takes it); the writer reports each index Milvus refused and goes on without it.
EPOCH_FIELDS = ("gen_from", "gen_to")
INDEXED_VERSION_FIELDS = ("serial", "id", "pmid", "doi", "year", "has_zh", "has_en", "has_abstract", "journal_lc",
                          "pub_types_lc", "authors_lc", "therapy", "cancer", *EPOCH_FIELDS)
INDEXED_VOCAB_FIELDS = ("term", "column", *EPOCH_FIELDS)
INDEXED_VECTOR_FIELDS = ("serial", *EPOCH_FIELDS)


@dataclass(frozen=True)
class Names:
    """The collection names of one generation."""

    generation: str

    @property
    def stem(self) -> str:
        return f"{PREFIX}_{re.sub(r'[^A-Za-z0-9_]', '_', self.generation)}"

    @property
    def marker(self) -> str:
        """The generation's own collection: no rows, its properties say what it is."""
        return f"{self.stem}_generation"

    def all(self) -> list[str]:
        """Its collection, and those mirrors had before pools (records, vocab, vectors per
        generation), so dropping a generation drops those too."""
        return [self.marker, *(f"{self.stem}_{part}" for part in ("records", "vocab", *VECTOR_FIELDS))]


@dataclass(frozen=True)
class Pool:
    """The collection names of one pool: an index's records and vectors of one shape (models,
    code), shared by its generations."""

    stem: str

    @classmethod
    def of(cls, index_key: str, shape: str) -> Pool:
        return cls(f"{PREFIX}_pool_{index_key}_{shape}")

    @staticmethod
    def prefix(index_key: str) -> str:
        return f"{PREFIX}_pool_{index_key}_"

    @property
    def versions(self) -> str:
        return f"{self.stem}_versions"

    @property
    def vocab(self) -> str:
        return f"{self.stem}_vocab"

    def vectors(self, field: str) -> str:
        assert field in VECTOR_FIELDS
        return f"{self.stem}_{field}"

    def all(self) -> list[str]:
        return [self.versions, self.vocab, *(self.vectors(f) for f in VECTOR_FIELDS)]


def alive_at(epoch: int) -> str:
    """The filter on a pool's rows that a generation of this epoch sees."""
    return f"gen_from <= {int(epoch)} and gen_to > {int(epoch)}"


def marker_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch generation: its properties say which pool rows it sees")
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("unit", DataType.SPARSE_FLOAT_VECTOR)  # Milvus wants a vector field
    return s


def versions_schema(client):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch record versions: filters, the record, its BM25 row, epochs alive")
    s.add_field("vkey", DataType.INT64, is_primary=True)
    s.add_field("serial", DataType.INT64)
    for name in EPOCH_FIELDS:
        s.add_field(name, DataType.INT64)
    for name in ("id", "pmid", "doi"):
        s.add_field(name, DataType.VARCHAR, max_length=SHORT_MAX)  # "" where a record has none
    s.add_field("content_hash", DataType.VARCHAR, max_length=64)
    s.add_field("year", DataType.INT64, nullable=True)
    for name in ("has_zh", "has_en", "has_abstract"):
        s.add_field(name, DataType.BOOL)
    for name in ("journal_lc", "pub_types_lc", "authors_lc"):
        s.add_field(name, DataType.VARCHAR, max_length=TEXT_MAX)
    for name in ("therapy", "cancer"):
        s.add_field(name, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=TAGS_MAX, max_length=SHORT_MAX)
    s.add_field("source", DataType.VARCHAR, max_length=TEXT_MAX)  # the file it was read from (update --prune)
    s.add_field("record", DataType.JSON)  # Record.to_dict() + tags + content_hash
    for name in ("doc_count", "sent_count", "passage_count", "dl"):
        s.add_field(name, DataType.INT64)
    s.add_field("terms", DataType.SPARSE_FLOAT_VECTOR)
    return s


def vectors_schema(client, dim: int, sentences: bool):
    from pymilvus import DataType

    s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                             description="oncosearch vectors: serial << 20 | offset, its version, epochs alive")
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("serial", DataType.INT64)
    s.add_field("offset", DataType.INT64)
    s.add_field("gen_from", DataType.INT64)
    s.add_field("gen_to", DataType.INT64)
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
    s.add_field("key", DataType.VARCHAR, is_primary=True, max_length=SHORT_MAX + 24)  # "<gen_from>:<term>"
    s.add_field("term", DataType.VARCHAR, max_length=SHORT_MAX)
    for name in ("column", "df", *EPOCH_FIELDS):
        s.add_field(name, DataType.INT64)
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
