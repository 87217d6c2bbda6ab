"""Mirror a finished local generation into Milvus: the same records, vectors and BM25 rows.

`mirror_generation` reads a generation through the local backend (verified against its manifest
first) and writes its collections (`index.storage.milvus.schema`). It is idempotent: a generation
already mirrored completely (same manifest) is left alone; a partial one (a crash, a kill) is
dropped and written again, and is never opened meanwhile because the "complete" mark is set last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.errors import DamagedIndex
from index.storage.base import DOCS, PASSAGES, SENTENCES
from index.storage.crashpoints import crash_point
from index.storage.local import LocalField, LocalGeneration, open_local
from index.storage.milvus import schema
from index.storage.milvus.connect import connect, normalise_uri, talking
from index.storage.store import StoredRecord

BATCH_BYTES = 8 * 2**20  # per insert call: well under gRPC's 64 MB message limit


@dataclass
class MirrorReport:
    uri: str
    generation: str
    skipped: bool  # already mirrored completely: nothing written
    records: int = 0
    vectors: dict[str, int] = field(default_factory=dict)  # field -> vectors written
    terms: int = 0
    unindexed: list[str] = field(default_factory=list)  # "collection.field: why" for scalar indexes Milvus refused
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def open_source(path: Path) -> LocalGeneration:
    """The local generation at `path`: a generation folder (holding manifest.json), or an index
    folder (its current generation). Verified against its manifest either way."""
    path = Path(path)
    if (path / "manifest.json").is_file():
        from index.storage.layout import IndexLayout
        from index.storage.manifest import Manifest
        from index.storage.verify import verify_generation

        manifest = Manifest.read(path)
        verify_generation(path, manifest)
        return LocalGeneration(IndexLayout(path.parent.parent), path, manifest)
    return open_local(path)


def manifest_digest(generation: LocalGeneration) -> str:
    return manifest_digest_of(generation.path)


def manifest_digest_of(generation_dir: Path) -> str:
    """What a mirror's "complete" mark holds: the sha256 of the generation's manifest file."""
    return hashlib.sha256((Path(generation_dir) / "manifest.json").read_bytes()).hexdigest()


def mirror_generation(generation_dir: Path, uri: str | Path, token: str | None = None,
                      before_write: Callable[[], None] | None = None) -> MirrorReport:
    """Write the local generation at `generation_dir` (a generation folder or an index folder) into
    Milvus at `uri` (a milvus-lite file or a server), under collections named after it.

    `before_write()` runs once Milvus answered and before anything is created there (the index
    lists the mirror then, index/storage/milvus/mirrors.py)."""
    start = time.perf_counter()
    uri = normalise_uri(uri)
    local = open_source(Path(generation_dir))
    client = None
    try:
        client = connect(uri, token)
        names = schema.Names(local.name)
        digest = manifest_digest(local)
        with talking(uri, f"mirroring generation {local.name}"):
            if is_complete(client, names, digest):
                return MirrorReport(uri, local.name, skipped=True, records=local.records,
                                    seconds=time.perf_counter() - start)
            if before_write is not None:
                before_write()
            for name in names.all():  # a partial mirror (killed writer) or another manifest: start over
                if client.has_collection(name):
                    client.drop_collection(name)
            report = MirrorReport(uri, local.name, skipped=False)
            report.records = _write_records(client, names, local, report)
            crash_point("mirror")
            report.terms = _write_vocab(client, names, local)
            crash_point("mirror")
            for kind in (DOCS, SENTENCES, PASSAGES):
                f = local.field(kind)
                if f is not None:
                    report.vectors[kind] = _write_vectors(client, names, local, kind, f)
                    crash_point("mirror")
            manifest = json.loads((local.path / "manifest.json").read_text())
            client.alter_collection_properties(names.records, properties={
                schema.GENERATION: local.name, schema.MANIFEST: json.dumps(manifest, ensure_ascii=False)})
            client.alter_collection_properties(names.records, properties={schema.COMPLETE: digest})
        report.seconds = time.perf_counter() - start
        return report
    finally:
        if client is not None:
            client.close()
        local.close()


def drop_generation(uri: str, generation: str, token: str | None = None) -> list[str]:
    """Drop every collection of `generation`'s mirror at `uri` (those that exist); returns their names."""
    uri = normalise_uri(uri)
    client = connect(uri, token)
    try:
        with talking(uri, f"dropping generation {generation}"):
            dropped = [name for name in schema.Names(generation).all() if client.has_collection(name)]
            for name in dropped:
                client.drop_collection(name)
        return dropped
    finally:
        client.close()


def is_complete(client, names: schema.Names, digest: str) -> bool:
    if not client.has_collection(names.records):
        return False
    properties = client.describe_collection(names.records).get("properties") or {}
    return properties.get(schema.COMPLETE) == digest and all(
        client.has_collection(n) for n in (names.records, names.vocab))


def _create(client, name: str, s, index_params, scalar: tuple[str, ...], report: MirrorReport | None) -> None:
    """Create a collection with its vector index, then each scalar index Milvus accepts."""
    from pymilvus.exceptions import MilvusException

    client.create_collection(name, schema=s, index_params=index_params)
    for f in scalar:
        params = client.prepare_index_params()
        params.add_index(f, index_type="INVERTED")
        try:
            client.create_index(name, params)  # (called within `talking`, which keeps pymilvus's log quiet)
        except MilvusException as e:
            if report is None:
                raise
            report.unindexed.append(f"{name}.{f}: {getattr(e, 'message', e)}")
    client.load_collection(name)


def _insert(client, name: str, rows: Iterator[dict], row_bytes: int) -> int:
    per_batch = max(1, BATCH_BYTES // max(row_bytes, 1))
    batch: list[dict] = []
    n = 0
    for row in rows:
        batch.append(row)
        if len(batch) >= per_batch:
            client.insert(name, batch)
            n, batch = n + len(batch), []
    if batch:
        client.insert(name, batch)
        n += len(batch)
    client.flush(name)
    return n


def _term_rows(local: LocalGeneration) -> list[dict[int, float]]:
    """Every record's BM25 row as {column: bm25s's precomputed score}, from the local index's CSC
    arrays (column t: records ``indices[indptr[t]:indptr[t+1]]``, scores ``data[...]``)."""
    terms = local.terms
    indptr, indices, data = (np.asarray(a) for a in (terms.indptr, terms.indices, terms.data))
    columns = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
    order = np.argsort(indices, kind="stable")
    docs, columns, scores = indices[order], columns[order], data[order]
    bounds = np.searchsorted(docs, np.arange(local.records + 1))
    rows = []
    for r in range(local.records):
        a, b = bounds[r], bounds[r + 1]
        rows.append(dict(zip(columns[a:b].tolist(), scores[a:b].astype(np.float32).tolist(), strict=True)))
    return rows


def _passage_ranges(local: LocalGeneration) -> tuple[np.ndarray, np.ndarray]:
    f = local.field(PASSAGES)
    if f is None:
        zeros = np.zeros(local.records, dtype=np.int64)
        return zeros, zeros
    return np.asarray(f.starts), np.asarray(f.counts(np.arange(local.records)))


def _record_row(stored: StoredRecord, terms: dict[int, float], passage_start: int, passage_count: int) -> dict:
    r = stored.record
    if not terms:
        raise DamagedIndex(f"record {r.id}: no BM25 terms in the lexical index")
    return {
        "rowid": stored.rowid, "id": r.id, "pmid": r.pmid or "", "doi": (r.doi or "").lower(), "year": r.year,
        "has_zh": "zh" in r.langs, "has_en": "en" in r.langs, "has_abstract": bool(r.abstract.get("zh") or
                                                                                    r.abstract.get("en")),
        "journal_lc": (r.journal or "").lower(),
        "pub_types_lc": json.dumps(list(r.pub_types), ensure_ascii=False).lower(),  # as SQLite's lower(pub_types)
        "authors_lc": "\n".join(r.authors).lower(),  # one per line: no match spans two authors
        "therapy": list(stored.tags.get("therapy", [])), "cancer": list(stored.tags.get("cancer", [])),
        "record": {**r.to_dict(), "tags": stored.tags, "content_hash": stored.content_hash},
        "doc_start": stored.doc_start, "doc_count": stored.doc_count,
        "sent_start": stored.sent_start, "sent_count": stored.sent_count,
        "passage_start": passage_start, "passage_count": passage_count,
        "terms": terms,
    }


def _write_records(client, names: schema.Names, local: LocalGeneration, report: MirrorReport) -> int:
    _create(client, names.records, schema.records_schema(client), schema.sparse_index(client, "terms"),
            schema.INDEXED_RECORD_FIELDS, report)
    term_rows = _term_rows(local)
    p_start, p_count = _passage_ranges(local)
    rows = (_record_row(s, term_rows[s.rowid], int(p_start[s.rowid]), int(p_count[s.rowid]))
            for s in local.iter_records())
    return _insert(client, names.records, rows, row_bytes=16 * 1024)


def _write_vocab(client, names: schema.Names, local: LocalGeneration) -> int:
    """The terms bm25s saved (its vocab.index.json; the empty string it keeps has no column)."""
    from index.lexical.bm25 import FOLDER

    vocab = json.loads((local.path / FOLDER / "vocab.index.json").read_text(encoding="utf-8"))
    indptr = np.asarray(local.terms.indptr)
    columns = len(indptr) - 1
    _create(client, names.vocab, schema.vocab_schema(client), schema.sparse_index(client, "unit"), (), None)
    rows = ({"term": term, "column": int(col), "df": int(indptr[col + 1] - indptr[col]), "unit": {int(col): 1.0}}
            for term, col in vocab.items() if term and col < columns)
    return _insert(client, names.vocab, rows, row_bytes=256)


def _write_vectors(client, names: schema.Names, local: LocalGeneration, kind: str, f: LocalField) -> int:
    name = names.vectors(kind)
    sentences = kind == SENTENCES
    _create(client, name, schema.vectors_schema(client, f.dim, sentences), schema.dense_index(client, f.kind),
            ("rowid",), None)
    langs = _vector_langs(local, kind, f.size)
    texts = _sentence_texts(local, f.size) if sentences else None

    def rows() -> Iterator[dict]:
        for vid in range(f.size):
            row = int(f.owner[vid])
            out = {"id": vid, "rowid": row, "offset": vid - int(f.starts[row]), "lang": langs[vid],
                   "vector": np.asarray(f.matrix[vid], dtype=np.float32)}
            if texts is not None:
                out["position"], out["text"] = texts[vid]
            yield out

    return _insert(client, name, rows(), row_bytes=f.dim * 4 + (2048 if sentences else 64))


def _vector_langs(local: LocalGeneration, kind: str, size: int) -> list[str]:
    """Each vector's language: the store's docs and sentences tables; passages are English."""
    if kind == PASSAGES:
        return ["en"] * size
    table = "docs" if kind == DOCS else "sentences"
    langs = [lang for (lang,) in local.store.conn.execute(f"SELECT lang FROM {table} ORDER BY vid")]
    if len(langs) != size:
        raise DamagedIndex(f"{local.store.path}: {len(langs)} rows in {table}, {size} vectors")
    return langs


def _sentence_texts(local: LocalGeneration, size: int) -> list[tuple[int, str]]:
    rows = [(pos, text) for pos, text in local.store.conn.execute("SELECT position, text FROM sentences ORDER BY vid")]
    if len(rows) != size:
        raise DamagedIndex(f"{local.store.path}: {len(rows)} sentences, {size} sentence vectors")
    return rows
