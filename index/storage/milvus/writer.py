"""Mirror a finished local generation into Milvus, incrementally: the same records, vectors and BM25.

`mirror_generation` reads a generation through the local backend (verified against its manifest
first) and brings the index's pool (`schema.Pool`) to hold it at a new epoch, as the difference
from the mirror of the index's current generation: record versions (an id and a content hash) the
pool lacks are inserted with their vectors, versions the generation no longer holds are retired
(their epochs closed by a partial upsert: nothing is sent again), and the BM25 vocabulary rows
whose document frequency moved are replaced. A nightly update that adds a few hundred abstracts to
millions writes a few hundred abstracts and the terms they touch.

BM25 is split so that a record's row does not change when others arrive: a version's row holds
only the term-frequency part of each term, scored against a reference average length; the IDF
comes with the query, from the vocabulary's document frequencies. When the average length drifts
more than `DRIFT` from the reference, the write re-scores every alive version (new version rows,
same vectors), so scores stay within a hair of the local leg's (equal on a fresh mirror).

It is idempotent: a generation already mirrored completely (same manifest) is left alone. A pool
row a killed run wrote is invisible to every complete generation (its epoch is above theirs) and
is undone by the next run; the generation's own collection gets its "complete" mark last.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from index.errors import DamagedIndex
from index.lexical.bm25 import record_tokens, tf_part
from index.storage.base import SENTENCES
from index.storage.crashpoints import crash_point
from index.storage.local import LocalGeneration, open_local
from index.storage.manifest import Manifest
from index.storage.milvus import schema
from index.storage.milvus.connect import connect, normalise_uri, talking
from index.storage.milvus.sources import DeltaSource, LocalSource
from index.storage.milvus.storage import stored_of
from index.storage.store import StoredRecord

BATCH_BYTES = 8 * 2**20  # per insert call: well under gRPC's 64 MB message limit
UPSERT_BATCH = 8192  # rows per partial upsert (a primary key and gen_to each)
DRIFT = 0.02  # re-score every version's BM25 row when the average length moves this far from its reference
AVGDL = "oncosearch.avgdl"  # property of a generation's collection: the reference its versions were scored with


@dataclass
class MirrorReport:
    uri: str
    generation: str
    skipped: bool  # already mirrored completely: nothing written
    records: int = 0
    vectors: dict[str, int] = field(default_factory=dict)  # field -> vectors written (new record versions)
    terms: int = 0  # vocabulary rows written (terms new, or whose document frequency moved)
    unindexed: list[str] = field(default_factory=list)  # "collection.field: why" for scalar indexes Milvus refused
    seconds: float = 0.0
    pool: str = ""
    epoch: int = 0
    added: int = 0  # record versions new to the pool
    kept: int = 0  # record versions the pool held already: their vectors were not written again
    retired: int = 0  # record versions this generation no longer holds
    rescored: bool = False  # every kept version's BM25 row was written again (the average length drifted)

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        """What was written, for people: the versions new to the pool, kept and retired."""
        if self.skipped:
            return "already there"
        return (f"{self.records} records at epoch {self.epoch}: {self.added} new ({sum(self.vectors.values())} "
                f"vectors written), {self.kept} kept{' (BM25 re-scored)' if self.rescored else ''}, "
                f"{self.retired} retired, {self.terms} vocabulary rows; {self.seconds:.1f}s")


def open_source(path: Path) -> LocalGeneration:
    """The local generation at `path`: a generation folder (holding manifest.json), or an index
    folder (its current generation). Verified against its manifest either way."""
    path = Path(path)
    if (path / "manifest.json").is_file():
        from index.storage.layout import IndexLayout
        from index.storage.manifest import Manifest
        from index.storage.verify import verify_generation

        manifest = Manifest.read(path)
        if manifest.lives_in_milvus():
            raise DamagedIndex(f"{path}: its records live only in Milvus: there are no local files to mirror")
        verify_generation(path, manifest)
        return LocalGeneration(IndexLayout(path.parent.parent), path, manifest)
    return open_local(path)


def manifest_digest(generation: LocalGeneration) -> str:
    return manifest_digest_of(generation.path)


def manifest_digest_of(generation_dir: Path) -> str:
    """What a mirror's "complete" mark holds: the sha256 of the generation's manifest file."""
    return hashlib.sha256((Path(generation_dir) / "manifest.json").read_bytes()).hexdigest()


def vector_shape(manifest: Manifest, generation: str) -> str:
    """What makes two generations' vectors of one record version the same: the models and the code
    that chunked and embedded it (the manifest's "code", from index.fingerprint), and the pool's
    schema. A generation written before manifests said so gets a shape of its own: its vectors are
    never shared."""
    code = manifest.settings.get("code") or f"unknown:{generation}"
    parts = (manifest.model_id, manifest.dim, manifest.settings.get("english_model_id"), code, schema.VERSION)
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:10]


def pool_of(root: Path, manifest: Manifest, generation: str) -> schema.Pool:
    """The pool a generation of the index at `root` is written into."""
    from index.storage.milvus.remember import index_key

    return schema.Pool.of(index_key(root), vector_shape(manifest, generation))


def mirror_generation(generation_dir: Path, uri: str | Path, token: str | None = None,
                      before_write: Callable[[], None] | None = None,
                      source: DeltaSource | None = None) -> MirrorReport:
    """Write the generation at `generation_dir` (a generation folder or an index folder) into
    Milvus at `uri` (a milvus-lite file or a server): the index's pool brought to hold it at a new
    epoch, diffed from the mirror of the index's current generation, and the generation's own
    collection naming that epoch. Its records are the local generation's there, or, for a
    generation that lives only in Milvus, `source`'s (sources.DeltaSource).

    Mirror generations in the order they become current (as build/update and `index mirror` do): a
    run undoes the pool rows of any mirror newer than the current generation's.

    `before_write()` runs once Milvus answered and before anything is created there (the index
    lists the mirror then, index/storage/milvus/mirrors.py)."""
    start = time.perf_counter()
    uri = normalise_uri(uri)
    src = source if source is not None else LocalSource(open_source(Path(generation_dir)))
    records = len(src.keys())
    client = None
    try:
        client = connect(uri, token)
        names = schema.Names(src.name)
        digest = manifest_digest_of(src.path)
        with talking(uri, f"mirroring generation {src.name}"):
            if is_complete(client, names, digest):
                return MirrorReport(uri, src.name, skipped=True, records=records, seconds=time.perf_counter() - start)
            if before_write is not None:
                before_write()
            for name in names.all():  # a partial mirror (killed writer) or another manifest: start over
                if client.has_collection(name):
                    client.drop_collection(name)
            pool = pool_of(src.layout.root, src.manifest, src.name)
            report = MirrorReport(uri, src.name, skipped=False, pool=pool.stem, records=records)
            avgdl = PoolWriter(client, pool, src, report).write()
            _create(client, names.marker, schema.marker_schema(client), schema.sparse_index(client, "unit"), (), None)
            crash_point("mirror")
            manifest = json.loads((src.path / "manifest.json").read_text())
            client.alter_collection_properties(names.marker, properties={
                schema.GENERATION: src.name, schema.MANIFEST: json.dumps(manifest, ensure_ascii=False),
                schema.POOL: pool.stem, schema.EPOCH: str(report.epoch), AVGDL: repr(avgdl)})
            client.alter_collection_properties(names.marker, properties={schema.COMPLETE: digest})
        report.seconds = time.perf_counter() - start
        return report
    finally:
        if client is not None:
            client.close()
        if source is None:  # a DeltaSource stays open for a retry; its caller closes it
            src.close()


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
        with talking(uri, "tidying the pools"):
            prefix = schema.Pool.prefix(key)
            stems = {n.rsplit("_", 1)[0] for n in client.list_collections() if n.startswith(prefix)}
            epochs: dict[str, list[int]] = {}
            for generation in generations:
                marker = schema.Names(generation).marker
                if client.has_collection(marker):
                    props = properties(client, marker)
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
    if not client.has_collection(names.marker):
        return False
    props = properties(client, names.marker)
    pool = props.get(schema.POOL)
    return props.get(schema.COMPLETE) == digest and bool(pool) and client.has_collection(schema.Pool(pool).versions)


def mirrored(client, generation: str | None, pool: schema.Pool) -> tuple[int, float]:
    """The epoch of `generation`'s complete mirror in `pool` and the average length its BM25 rows
    were scored with; (0, 0.0) where it has none there."""
    if generation is None:
        return 0, 0.0
    marker = schema.Names(generation).marker
    if not client.has_collection(marker):
        return 0, 0.0
    props = properties(client, marker)
    if not props.get(schema.COMPLETE) or props.get(schema.POOL) != pool.stem:
        return 0, 0.0
    return int(props.get(schema.EPOCH) or 0), float(props.get(AVGDL) or 0.0)


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


@dataclass(frozen=True)
class Version:
    """A record version alive at the base epoch: what a write needs to keep or retire it."""

    vkey: int
    serial: int
    counts: tuple[int, int, int]  # docs, sentences, passages
    dl: int
    has_abstract: bool
    source: str  # the file it was read from


def term_parts(tokens: list[str], columns: dict[str, int], avgdl: float) -> dict[int, float]:
    """A version's BM25 row: {column: the term-frequency part of its score}, so that the row's inner
    product with {column: weight × idf} is the local leg's score."""
    dl = len(tokens)
    return {columns[t]: float(np.float32(tf_part(tf, dl, avgdl))) for t, tf in Counter(tokens).items()}


def alive_versions(client, pool: schema.Pool, epoch: int) -> dict[tuple[str, str], Version]:
    """(record id, content hash) -> the version of `pool` alive at `epoch` (none at epoch 0)."""
    out: dict[tuple[str, str], Version] = {}
    if not epoch or not client.has_collection(pool.versions):
        return out
    client.load_collection(pool.versions)
    top = int(properties(client, pool.versions).get(schema.NEXT_SERIAL) or 1)
    fields = ["vkey", "serial", "id", "content_hash", "doc_count", "sent_count", "passage_count", "dl",
              "has_abstract", "source"]
    for a in range(0, top, schema.LIMIT):  # a window of serials a query: within a server's LIMIT rows
        for row in client.query(pool.versions, filter=f"serial >= {a} and serial < {a + schema.LIMIT} "
                                                      f"and {schema.alive_at(epoch)}",
                                output_fields=fields, limit=schema.LIMIT):
            out[(row["id"], row["content_hash"])] = Version(
                int(row["vkey"]), int(row["serial"]),
                (int(row["doc_count"]), int(row["sent_count"]), int(row["passage_count"])), int(row["dl"]),
                bool(row["has_abstract"]), row["source"])
    return out


class PoolWriter:
    """One write of a generation into a pool at a new epoch (see the module docstring)."""

    def __init__(self, client, pool: schema.Pool, source: LocalSource | DeltaSource, report: MirrorReport):
        self.client, self.pool, self.source, self.report = client, pool, source, report
        self.kinds = source.kinds

    def write(self) -> float:
        """Write; returns the average length the alive versions' BM25 rows are scored with."""
        client, pool, source, report = self.client, self.pool, self.source, self.report
        self._ensure()
        base, base_avgdl = mirrored(client, source.layout.current_name(), pool)
        for name in self.collections:
            _undo_after(client, name, base)
        crash_point("mirror")

        props = properties(client, pool.versions)
        epoch = max(int(props.get(schema.NEXT_EPOCH) or 1), base + 1)
        serial, vkey, column = (int(props.get(k) or 1) for k in (schema.NEXT_SERIAL, schema.NEXT_VKEY,
                                                                 schema.NEXT_COLUMN))
        live = alive_versions(client, pool, base)
        keys = source.keys()  # the diff needs no text: full records are read only for rows written
        wanted = set(keys)
        new_rows = [r for r, key in enumerate(keys) if key not in live]
        if not all(source.holds(r) for r in new_rows):
            raise DamagedIndex(f"{pool.versions}: lacks records generation {source.name} was written to find "
                               "there (another writer?): write it again")
        new_tokens = {r: record_tokens(s.record) for r, s, _ in source.stored(new_rows)}
        total = sum(live[k].dl for k in keys if k in live) + sum(len(t) for t in new_tokens.values())
        avgdl = total / max(len(keys), 1)
        rescore = base == 0 or not base_avgdl or abs(avgdl / base_avgdl - 1) > DRIFT
        avgdl_ref = avgdl if rescore else base_avgdl
        retired = [v for k, v in live.items() if k not in wanted]
        kept_rows = [r for r, key in enumerate(keys) if key in live]
        rewritten = [live[keys[r]] for r in kept_rows] if rescore else []
        serials = np.array([live[k].serial if k in live else 0 for k in keys], dtype=np.int64)
        for r in new_rows:
            serials[r], serial = serial, serial + 1

        vocab_new, vocab_retired, columns, column = self._vocab_diff(base, epoch, column, new_tokens, retired)
        client.alter_collection_properties(pool.versions, properties={
            schema.NEXT_EPOCH: str(epoch + 1), schema.NEXT_SERIAL: str(serial),
            schema.NEXT_VKEY: str(vkey + len(new_rows) + len(rewritten)), schema.NEXT_COLUMN: str(column)})
        report.epoch, report.added, report.retired = epoch, len(new_rows), len(retired)
        report.kept, report.rescored = len(kept_rows), bool(rewritten)

        _partial(client, pool.versions, "vkey", [v.vkey for v in (*retired, *rewritten)], epoch)
        for i, kind in enumerate(schema.VECTOR_FIELDS):
            if kind in self.kinds:
                ids = [v.serial << schema.SERIAL_SHIFT | o for v in retired for o in range(v.counts[i])]
                _partial(client, pool.vectors(kind), "id", ids, epoch)
        _partial(client, pool.vocab, "key", vocab_retired, epoch)
        moved = [{"vkey": live[keys[r]].vkey, "source": stored.record.source or "", "record": record_json(stored)}
                 for r, stored in source.moved() if keys[r] in live]
        for a in range(0, len(moved), UPSERT_BATCH):  # read from another file now: where prune looks
            client.upsert(pool.versions, moved[a:a + UPSERT_BATCH], partial_update=True)
        crash_point("mirror")

        def version_rows() -> Iterator[dict]:
            next_key = vkey
            for r, stored, counts in self._rows(new_rows + (kept_rows if rescore else []), live, keys):
                tokens = new_tokens.pop(r) if r in new_tokens else record_tokens(stored.record)
                yield _version_row(stored, next_key, int(serials[r]), counts, tokens,
                                   term_parts(tokens, columns, avgdl_ref), epoch)
                next_key += 1

        _insert(client, pool.versions, version_rows(), row_bytes=16 * 1024)
        crash_point("mirror")
        for kind in self.kinds:
            report.vectors[kind] = _write_vectors(client, pool.vectors(kind), source, kind, new_rows, serials, epoch)
        report.terms = _insert(client, pool.vocab, iter(vocab_new), row_bytes=256)
        crash_point("mirror")
        return avgdl_ref

    @property
    def collections(self) -> list[str]:
        return [self.pool.versions, self.pool.vocab, *(self.pool.vectors(k) for k in self.kinds)]

    def _rows(self, rows: list[int], live: dict, keys: list) -> Iterator[tuple[int, StoredRecord, tuple]]:
        """The records at `rows` with their vector counts: from the source where it holds them,
        else (a kept version of a generation that lives only in Milvus) from the pool."""
        held = sorted(r for r in rows if self.source.holds(r))
        yield from self.source.stored(held)
        pooled = sorted(set(rows) - set(held))
        by_vkey = {live[keys[r]].vkey: r for r in pooled}
        vkeys = list(by_vkey)
        for a in range(0, len(vkeys), 2048):
            for found in self.client.get(self.pool.versions, ids=vkeys[a:a + 2048],
                                         output_fields=["vkey", "serial", "record", "doc_count", "sent_count",
                                                        "passage_count"]):
                r = by_vkey[int(found["vkey"])]
                yield r, stored_of(r, found), live[keys[r]].counts

    def _ensure(self) -> None:
        """Create the pool's collections that are missing, and load them all."""
        client, pool, report = self.client, self.pool, self.report
        wanted = [(pool.versions, lambda: schema.versions_schema(client), "terms", None,
                   schema.INDEXED_VERSION_FIELDS),
                  (pool.vocab, lambda: schema.vocab_schema(client), "unit", None, schema.INDEXED_VOCAB_FIELDS)]
        dims = self.source.dims()
        for kind in self.kinds:
            if client.has_collection(pool.vectors(kind)):
                continue
            if kind not in dims:
                raise DamagedIndex(f"{pool.vectors(kind)} is missing and generation {self.source.name} writes no "
                                   "vector to make it with: write it again")
            dim, local_kind = dims[kind]
            wanted.append((pool.vectors(kind), lambda dim=dim, kind=kind: schema.vectors_schema(
                client, dim, kind == SENTENCES), "vector", local_kind, schema.INDEXED_VECTOR_FIELDS))
        for name, make, vector, kind, scalar in wanted:
            if not client.has_collection(name):
                index = schema.sparse_index(client, vector) if kind is None else schema.dense_index(client, kind)
                _create(client, name, make(), index, scalar, report)
        for name in self.collections:
            client.load_collection(name)

    def _vocab_diff(self, base: int, epoch: int, column: int, new_tokens: dict[int, list[str]],
                    retired: list[Version]) -> tuple[list[dict], list[str], dict[str, int], int]:
        """The vocabulary rows to insert and the keys to retire, each term's column (stable across
        epochs: a new term gets the next one), and the next free column."""
        alive = self._alive_vocab(base, column) if base else {}
        df = self.source.frequencies()
        if df is None:  # the previous epoch's, plus the versions added, minus those retired
            counted = Counter({term: n for term, (_, _, n) in alive.items()})
            for tokens in new_tokens.values():
                counted.update(set(tokens))
            counted.subtract(self._retired_terms(retired, alive))
            df = {term: n for term, n in counted.items() if n > 0}
        rows, gone, columns = [], [], {}
        for term, (key, col, old_df) in alive.items():
            if term not in df or df[term] != old_df:
                gone.append(key)
            if term in df:
                columns[term] = col
        for term, n in df.items():
            if term not in columns:
                columns[term], column = column, column + 1
            if term not in alive or alive[term][2] != n:
                rows.append({"key": f"{epoch}:{term}", "term": term, "column": columns[term], "df": n,
                             "gen_from": epoch, "gen_to": schema.ALIVE, "unit": {columns[term]: 1.0}})
        return rows, gone, columns, column

    def _retired_terms(self, retired: list[Version], alive: dict[str, tuple[str, int, int]]) -> Counter:
        """How many of the retired versions hold each term (read from their BM25 rows' columns)."""
        term_of = {col: term for term, (_, col, _) in alive.items()}
        out: Counter = Counter()
        vkeys = [v.vkey for v in retired]
        for a in range(0, len(vkeys), 2048):
            for found in self.client.get(self.pool.versions, ids=vkeys[a:a + 2048], output_fields=["vkey", "terms"]):
                out.update(term_of[int(c)] for c in found["terms"])
        return out

    def _alive_vocab(self, epoch: int, top: int) -> dict[str, tuple[str, int, int]]:
        """term -> (key, column, df) of the vocabulary rows alive at `epoch`."""
        out = {}
        for a in range(0, top, schema.LIMIT):  # a window of columns a query (one alive row per column)
            for row in self.client.query(self.pool.vocab, filter=f"column >= {a} and column < {a + schema.LIMIT} "
                                                                 f"and {schema.alive_at(epoch)}",
                                         output_fields=["key", "term", "column", "df"], limit=schema.LIMIT):
                out[row["term"]] = (row["key"], int(row["column"]), int(row["df"]))
        return out


def _version_row(stored: StoredRecord, vkey: int, serial: int, counts: tuple[int, int, int], tokens: list[str],
                 terms: dict[int, float], epoch: int) -> dict:
    r = stored.record
    return {
        "vkey": vkey, "serial": serial, "gen_from": epoch, "gen_to": schema.ALIVE,
        "id": r.id, "pmid": r.pmid or "", "doi": (r.doi or "").lower(), "content_hash": stored.content_hash,
        "year": r.year, "has_zh": "zh" in r.langs, "has_en": "en" in r.langs,
        "has_abstract": bool(r.abstract.get("zh") or r.abstract.get("en")),
        "journal_lc": (r.journal or "").lower(),
        "pub_types_lc": json.dumps(list(r.pub_types), ensure_ascii=False).lower(),  # as SQLite's lower(pub_types)
        "authors_lc": "\n".join(r.authors).lower(),  # one per line: no match spans two authors
        "therapy": list(stored.tags.get("therapy", [])), "cancer": list(stored.tags.get("cancer", [])),
        "source": r.source or "",
        "record": record_json(stored),
        **{f"{prefix}_count": n for prefix, n in zip(("doc", "sent", "passage"), counts, strict=True)},
        "dl": len(tokens), "terms": terms,
    }


def record_json(stored: StoredRecord) -> dict:
    """What a version's `record` field holds: the record, its tags and content hash."""
    return {**stored.record.to_dict(), "tags": stored.tags, "content_hash": stored.content_hash}


def _undo_after(client, name: str, base: int) -> None:
    """Undo what runs after epoch `base` did to pool collection `name`: their rows are deleted, the
    rows they retired live again. (No complete generation at or below `base` sees either change.)"""
    key = {"versions": "vkey", "vocab": "key"}.get(name.rsplit("_", 1)[1], "id")
    client.delete(name, filter=f"gen_from > {base}")
    while True:
        reopened = client.query(name, filter=f"gen_to > {base} and gen_to < {schema.ALIVE}", output_fields=[key],
                                limit=schema.LIMIT)
        if not reopened:
            return
        _partial(client, name, key, [row[key] for row in reopened], schema.ALIVE)


def _partial(client, name: str, key: str, ids: list, gen_to: int) -> None:
    """Set gen_to of the rows with these primary keys (a partial upsert: nothing else is sent again)."""
    for a in range(0, len(ids), UPSERT_BATCH):
        client.upsert(name, [{key: i, "gen_to": int(gen_to)} for i in ids[a:a + UPSERT_BATCH]], partial_update=True)
    if ids:
        client.flush(name)


def _write_vectors(client, name: str, source: LocalSource | DeltaSource, kind: str, rows: list[int],
                   serials: np.ndarray, epoch: int) -> int:
    """Insert the `kind` vectors of the records at `rows` (new versions) into pool collection `name`."""
    sentences = kind == SENTENCES

    def out() -> Iterator[dict]:
        for r, o, vector, lang, text in source.vectors(kind, rows):
            serial = int(serials[r])
            row = {"id": serial << schema.SERIAL_SHIFT | o, "serial": serial, "offset": o, "gen_from": epoch,
                   "gen_to": schema.ALIVE, "lang": lang, "vector": vector}
            if sentences:
                row["position"], row["text"] = text
            yield row

    dim = source.dims().get(kind, (1024, ""))[0]
    return _insert(client, name, out(), row_bytes=dim * 4 + (2048 if sentences else 64))
