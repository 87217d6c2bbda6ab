"""Mirror a finished local generation into Milvus: the same records, vectors and BM25 rows.

`mirror_generation` reads a generation through the local backend (verified against its manifest
first) and writes it. Its records and BM25 vocabulary go into collections of its own; its vectors
go into the index's pool (`schema.Pool`), where only record versions the pool lacks are inserted and
only versions the generation no longer holds are retired (their epochs closed). A nightly update
that adds a few hundred abstracts to millions writes a few hundred abstracts' vectors.

It is idempotent: a generation already mirrored completely (same manifest) is left alone; a partial
one (a crash, a kill) is dropped and written again, and is never opened meanwhile because the
"complete" mark is set last. A pool row a killed run wrote is invisible to every complete
generation (its epoch is above theirs) and is undone by the next run.
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
    vectors: dict[str, int] = field(default_factory=dict)  # field -> vectors written (new record versions)
    terms: int = 0
    unindexed: list[str] = field(default_factory=list)  # "collection.field: why" for scalar indexes Milvus refused
    seconds: float = 0.0
    pool: str = ""
    epoch: int = 0
    added: int = 0  # record versions new to the pool
    kept: int = 0  # record versions the pool held already: their vectors were not written again
    retired: int = 0  # record versions this generation no longer holds

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """What was written, for people: the versions new to the pool, kept and retired."""
        if self.skipped:
            return "already there"
        return (f"{self.records} records at epoch {self.epoch}: {self.added} new ({sum(self.vectors.values())} "
                f"vectors written), {self.kept} kept, {self.retired} retired; {self.seconds:.1f}s")


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


def vector_shape(local: LocalGeneration) -> str:
    """What makes two generations' vectors of one record version the same: the models and the code
    that chunked and embedded it (the manifest's "code", from index.fingerprint). A generation
    written before manifests said so gets a shape of its own: its vectors are never shared."""
    m = local.manifest
    code = m.settings.get("code") or f"unknown:{local.name}"
    parts = (m.model_id, m.dim, m.settings.get("english_model_id"), code)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:10]


def mirror_generation(generation_dir: Path, uri: str | Path, token: str | None = None,
                      before_write: Callable[[], None] | None = None) -> MirrorReport:
    """Write the local generation at `generation_dir` (a generation folder or an index folder) into
    Milvus at `uri` (a milvus-lite file or a server): its own collections, and its vectors into the
    index's pool as the difference from the mirror of the index's current generation.

    Mirror generations in the order they become current (as build/update and `index mirror` do): a
    run undoes the pool rows of any mirror newer than the current generation's.

    `before_write()` runs once Milvus answered and before anything is created there (the index
    lists the mirror then, index/storage/milvus/mirrors.py)."""
    from index.storage.milvus.remember import index_key

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
            pool = schema.Pool.of(index_key(local.root), vector_shape(local))
            report = MirrorReport(uri, local.name, skipped=False, pool=pool.stem)
            serials = _write_pool(client, pool, local, report)
            crash_point("mirror")
            report.records = _write_records(client, names, local, serials, report)
            crash_point("mirror")
            report.terms = _write_vocab(client, names, local)
            crash_point("mirror")
            manifest = json.loads((local.path / "manifest.json").read_text())
            client.alter_collection_properties(names.records, properties={
                schema.GENERATION: local.name, schema.MANIFEST: json.dumps(manifest, ensure_ascii=False),
                schema.POOL: pool.stem, schema.EPOCH: str(report.epoch)})
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


def tidy_pools(uri: str, key: str, generations: list[str], token: str | None = None) -> list[str]:
    """Drop from index `key`'s pools at `uri` what none of `generations` (the mirrors it keeps there)
    sees: rows retired at or before the oldest one's epoch, rows above the newest one's (a killed
    run's), and whole pools none of them reads. Returns the pools dropped. Call under the writer lock."""
    uri = normalise_uri(uri)
    client = connect(uri, token)
    try:
        with talking(uri, "tidying the vector pools"):
            prefix = schema.Pool.prefix(key)
            stems = {n.rsplit("_", 1)[0] for n in client.list_collections() if n.startswith(prefix)}
            epochs: dict[str, list[int]] = {}
            for generation in generations:
                names = schema.Names(generation)
                if client.has_collection(names.records):
                    props = properties(client, names.records)
                    if props.get(schema.POOL) and props.get(schema.COMPLETE):
                        epochs.setdefault(props[schema.POOL], []).append(int(props.get(schema.EPOCH) or 0))
            dropped = []
            for stem in sorted(stems):
                present = [n for n in schema.Pool(stem).all() if client.has_collection(n)]
                if stem not in epochs:
                    for name in present:
                        client.drop_collection(name)
                    dropped.append(stem)
                    continue
                for name in present:
                    client.delete(name, filter=f"gen_to <= {min(epochs[stem])} or gen_from > {max(epochs[stem])}")
            return dropped
    finally:
        client.close()


def properties(client, collection: str) -> dict:
    return client.describe_collection(collection).get("properties") or {}


def is_complete(client, names: schema.Names, digest: str) -> bool:
    if not client.has_collection(names.records):
        return False
    props = properties(client, names.records)
    pool = props.get(schema.POOL)
    return props.get(schema.COMPLETE) == digest and bool(pool) and all(
        client.has_collection(n) for n in (names.records, names.vocab, schema.Pool(pool).versions))


def mirrored_epoch(client, generation: str | None, pool: schema.Pool) -> int:
    """The epoch of `generation`'s complete mirror in `pool`; 0 where it has none there."""
    if generation is None:
        return 0
    names = schema.Names(generation)
    if not client.has_collection(names.records):
        return 0
    props = properties(client, names.records)
    if not props.get(schema.COMPLETE) or props.get(schema.POOL) != pool.stem:
        return 0
    return int(props.get(schema.EPOCH) or 0)


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


def _run_counts(local: LocalGeneration, kind: str) -> np.ndarray:
    """Each record's count of `kind` vectors (zeros where the generation has no such field)."""
    f = local.field(kind)
    if f is None:
        return np.zeros(local.records, dtype=np.int64)
    return np.asarray(f.counts(np.arange(local.records)), dtype=np.int64)


def _record_row(stored: StoredRecord, terms: dict[int, float], serial: int, passage_count: int) -> dict:
    r = stored.record
    if not terms:
        raise DamagedIndex(f"record {r.id}: no BM25 terms in the lexical index")
    start = serial << schema.SERIAL_SHIFT  # every field's run of this version starts here in its pool collection
    return {
        "rowid": stored.rowid, "id": r.id, "pmid": r.pmid or "", "doi": (r.doi or "").lower(), "year": r.year,
        "has_zh": "zh" in r.langs, "has_en": "en" in r.langs, "has_abstract": bool(r.abstract.get("zh") or
                                                                                    r.abstract.get("en")),
        "journal_lc": (r.journal or "").lower(),
        "pub_types_lc": json.dumps(list(r.pub_types), ensure_ascii=False).lower(),  # as SQLite's lower(pub_types)
        "authors_lc": "\n".join(r.authors).lower(),  # one per line: no match spans two authors
        "therapy": list(stored.tags.get("therapy", [])), "cancer": list(stored.tags.get("cancer", [])),
        "record": {**r.to_dict(), "tags": stored.tags, "content_hash": stored.content_hash},
        "doc_start": start, "doc_count": stored.doc_count,
        "sent_start": start, "sent_count": stored.sent_count,
        "passage_start": start, "passage_count": passage_count,
        "terms": terms,
    }


def _write_records(client, names: schema.Names, local: LocalGeneration, serials: np.ndarray,
                   report: MirrorReport) -> int:
    _create(client, names.records, schema.records_schema(client), schema.sparse_index(client, "terms"),
            schema.INDEXED_RECORD_FIELDS, report)
    term_rows = _term_rows(local)
    p_count = _run_counts(local, PASSAGES)
    rows = (_record_row(s, term_rows[s.rowid], int(serials[s.rowid]), int(p_count[s.rowid]))
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


VERSION_INDEXED = ("record_id", "gen_from", "gen_to")
POOL_INDEXED = ("serial", "gen_from", "gen_to")
UPSERT_BATCH = 8192  # rows per partial upsert (a primary key and gen_to each)


def _write_pool(client, pool: schema.Pool, local: LocalGeneration, report: MirrorReport) -> np.ndarray:
    """Bring the pool to hold `local`'s record versions at a new epoch; returns each rowid's serial.

    The base is the mirror of the index's current generation: pool rows written after it (by runs
    that were killed, or never became current) are undone first; then versions the base holds and
    `local` does not are retired at the new epoch, and versions it lacks are inserted."""
    kinds = [k for k in schema.VECTOR_FIELDS if local.field(k) is not None]
    if not client.has_collection(pool.versions):
        _create(client, pool.versions, schema.versions_schema(client), schema.sparse_index(client, "unit"),
                VERSION_INDEXED, report)
    for kind in kinds:
        if not client.has_collection(pool.vectors(kind)):
            f = local.field(kind)
            _create(client, pool.vectors(kind), schema.vectors_schema(client, f.dim, kind == SENTENCES),
                    schema.dense_index(client, f.kind), POOL_INDEXED, report)
    collections = [pool.versions, *(pool.vectors(k) for k in kinds)]
    for name in collections:
        client.load_collection(name)
    base = mirrored_epoch(client, local.layout.current_name(), pool)
    for name in collections:
        _undo_after(client, name, base)
    crash_point("mirror")

    props = properties(client, pool.versions)
    epoch = max(int(props.get(schema.NEXT_EPOCH) or 1), base + 1)
    next_serial = int(props.get(schema.NEXT_SERIAL) or 1)
    live = _live_versions(client, pool, base, next_serial) if base else {}
    serials = np.zeros(local.records, dtype=np.int64)
    added: list[int] = []
    wanted: set[tuple[str, str]] = set()
    for stored in local.iter_records():
        key = (stored.record.id, stored.content_hash)
        wanted.add(key)
        if key in live:
            serials[stored.rowid] = live[key][0]
        else:
            serials[stored.rowid] = next_serial
            added.append(stored.rowid)
            next_serial += 1
    retired = [version for key, version in live.items() if key not in wanted]
    client.alter_collection_properties(pool.versions, properties={
        schema.NEXT_EPOCH: str(epoch + 1), schema.NEXT_SERIAL: str(next_serial)})
    report.epoch, report.added, report.kept, report.retired = epoch, len(added), local.records - len(added), len(retired)

    _partial(client, pool.versions, "serial", [serial for serial, _ in retired], epoch)
    for i, kind in enumerate(schema.VECTOR_FIELDS):
        if kind in kinds:
            ids = [serial << schema.SERIAL_SHIFT | o for serial, counts in retired for o in range(counts[i])]
            _partial(client, pool.vectors(kind), "id", ids, epoch)
    crash_point("mirror")

    counts = {kind: _run_counts(local, kind) for kind in kinds}
    _insert(client, pool.versions, ({
        "serial": int(serials[r]), "record_id": record_id, "content_hash": content_hash,
        "gen_from": epoch, "gen_to": schema.ALIVE,
        **{f"{prefix}_count": int(counts[kind][r]) if kind in counts else 0
           for kind, prefix in zip(schema.VECTOR_FIELDS, ("doc", "sent", "passage"), strict=True)},
        "unit": {0: 1.0},
    } for r, (record_id, content_hash) in _keys(local, added)), row_bytes=256)
    for kind in kinds:
        report.vectors[kind] = _write_vectors(client, pool.vectors(kind), local, kind, added, serials, epoch)
    return serials


def _keys(local: LocalGeneration, rows: list[int]) -> Iterator[tuple[int, tuple[str, str]]]:
    for a in range(0, len(rows), 1024):
        part = rows[a:a + 1024]
        stored = local.get(part)
        yield from ((r, (stored[r].record.id, stored[r].content_hash)) for r in part)


def _undo_after(client, name: str, base: int) -> None:
    """Undo what runs after epoch `base` did to pool collection `name`: their rows are deleted, the
    rows they retired live again. (No complete generation at or below `base` sees either change.)"""
    key = "serial" if name.endswith("_versions") else "id"
    client.delete(name, filter=f"gen_from > {base}")
    while True:
        reopened = client.query(name, filter=f"gen_to > {base} and gen_to < {schema.ALIVE}", output_fields=[key],
                                limit=schema.LIMIT)
        if not reopened:
            return
        _partial(client, name, key, [row[key] for row in reopened], schema.ALIVE)


def _partial(client, name: str, key: str, ids: list[int], gen_to: int) -> None:
    """Set gen_to of the rows with these primary keys (a partial upsert: vectors are not sent again)."""
    for a in range(0, len(ids), UPSERT_BATCH):
        client.upsert(name, [{key: int(i), "gen_to": int(gen_to)} for i in ids[a:a + UPSERT_BATCH]],
                      partial_update=True)
    if ids:
        client.flush(name)


def _live_versions(client, pool: schema.Pool, epoch: int, next_serial: int) -> dict[tuple[str, str], tuple]:
    """(record id, content hash) -> (serial, (doc, sent, passage) counts) of the versions alive at `epoch`."""
    out = {}
    fields = ["serial", "record_id", "content_hash", "doc_count", "sent_count", "passage_count"]
    for a in range(0, next_serial, schema.LIMIT):  # a window of serials a query: within a server's LIMIT rows
        for row in client.query(pool.versions, filter=f"serial >= {a} and serial < {a + schema.LIMIT} and "
                                                      f"{schema.alive_at(epoch)}",
                                output_fields=fields, limit=schema.LIMIT):
            out[(row["record_id"], row["content_hash"])] = (
                int(row["serial"]), (int(row["doc_count"]), int(row["sent_count"]), int(row["passage_count"])))
    return out


def _write_vectors(client, name: str, local: LocalGeneration, kind: str, rows: list[int], serials: np.ndarray,
                   epoch: int) -> int:
    """Insert the `kind` vectors of the records at `rows` (new versions) into pool collection `name`."""
    f: LocalField = local.field(kind)
    sentences = kind == SENTENCES
    langs = _vector_langs(local, kind, f.size)

    def out() -> Iterator[dict]:
        for r in rows:
            start, count, serial = int(f.starts[r]), int(f.counts(np.array([r]))[0]), int(serials[r])
            texts = _sentence_texts(local, start, count) if sentences else None
            for o in range(count):
                row = {"id": serial << schema.SERIAL_SHIFT | o, "serial": serial, "offset": o, "gen_from": epoch,
                       "gen_to": schema.ALIVE, "lang": langs[start + o],
                       "vector": np.asarray(f.matrix[start + o], dtype=np.float32)}
                if texts is not None:
                    row["position"], row["text"] = texts[o]
                yield row

    return _insert(client, name, out(), row_bytes=f.dim * 4 + (2048 if sentences else 64))


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
