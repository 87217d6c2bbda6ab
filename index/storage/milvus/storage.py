"""The Milvus backend of the storage seam: one mirrored generation, read through pymilvus.

A generation is an epoch of its index's pool (index/storage/milvus/schema.py): it sees the pool
rows alive at that epoch. Its records are the alive versions in serial order (rowid = position),
as the local generation orders them.

What Milvus evaluates: the filters (`allowed`, an expression over the versions), the nearest
vectors of each field (ANN or flat search, filtered to the epoch or to the allow-list's serials; a
long allow-list is applied to an oversampled search of the epoch instead), and BM25 (a sparse
inner-product search of the query's {column: weight × idf} against each version's term-frequency
parts). What stays here: exact cosines over the runs of a few hundred
candidates (their vectors fetched by primary key and kept in a bounded cache), and the phrase check
(as the local backend folds text).

Per opened generation this process holds, per record, its serial, version key, counts, year and
id (for `counts`, `newest` and fetching by key): about 80 bytes a record.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from corpus.record import Record
from index.errors import DamagedIndex, MilvusUnavailable
from index.lexical.bm25 import idf
from index.lexical.phrases import Phrase, fold
from index.storage.base import DOCS, PASSAGES, SENTENCES, Filters, SentenceText, Storage, VectorField
from index.storage.local import expand_ranges, range_max
from index.storage.manifest import Manifest
from index.storage.milvus import schema
from index.storage.milvus.connect import connect, normalise_uri, talking
from index.storage.milvus.filters import filter_expression, literal, rowids_expression
from index.storage.store import StoredRecord
from index.storage.vectors import HNSW_EF_SEARCH

GET_BATCH = 4096  # primary keys per get
CACHE_VECTORS = 20_000  # fetched vectors kept per field: a page of candidates' runs (40 MB of 512-d vectors)
COUNT_FIELDS = ("doc_count", "sent_count", "passage_count")
# An allow-list goes to Milvus as the vector search's own filter (`serial in [...]`, ranges where
# serials run on) unless it is long and broad: more than PREFILTER_SERIALS versions and at least
# OVERSAMPLE_SHARE of the generation's records (a year range or a language over millions of
# records, whose list would be megabytes per search). Then the epoch's nearest vectors are fetched,
# oversampled, and filtered here (`_nearest_among`). bench/milvus_filter.py measures both ways.
PREFILTER_SERIALS = 20_000
OVERSAMPLE_SHARE = 0.1
OVERSAMPLE = 2  # vectors asked for beyond k, per k ÷ the share of records allowed


def generations(client) -> list[str]:
    """The generations mirrored completely at this Milvus, oldest first."""
    out = []
    for name in client.list_collections():
        if name.startswith(schema.PREFIX + "_") and name.endswith("_generation"):
            properties = client.describe_collection(name).get("properties") or {}
            if properties.get(schema.COMPLETE) and properties.get(schema.GENERATION):
                out.append(properties[schema.GENERATION])
    return sorted(out)


def open_milvus(uri: str | Path, generation: str | None = None, token: str | None = None,
                root: Path | None = None) -> MilvusGeneration:
    """The generation `generation` (None: the newest complete one) mirrored at Milvus `uri`.

    `root` is the index folder the user named (for messages); by default the URI. Raises
    MilvusUnavailable when Milvus cannot be reached or holds no such complete generation.
    """
    uri = normalise_uri(uri)
    client = connect(uri, token)
    with talking(uri, "opening the index"):
        if generation is None:
            found = generations(client)
            if not found:
                raise MilvusUnavailable(uri, "no oncosearch generation mirrored here", transient=False)
            generation = found[-1]
        names = schema.Names(generation)
        if not client.has_collection(names.marker):
            if client.has_collection(f"{names.stem}_records"):
                raise MilvusUnavailable(uri, f"generation {generation} was mirrored by an earlier oncosearch "
                                             "(collections of its own); mirror it again", transient=False)
            raise MilvusUnavailable(uri, f"generation {generation} is not mirrored here (no {names.marker})",
                                    transient=False)
        properties = client.describe_collection(names.marker).get("properties") or {}
        if not properties.get(schema.COMPLETE):
            raise MilvusUnavailable(uri, f"generation {generation} is only partly mirrored (a writer stopped); "
                                         "mirror it again", transient=False)
        try:
            manifest = Manifest(**json.loads(properties[schema.MANIFEST]))
            pool, epoch = schema.Pool(properties[schema.POOL]), int(properties[schema.EPOCH])
        except (KeyError, TypeError, ValueError) as e:
            raise DamagedIndex(f"{uri}: generation {generation}: unreadable properties ({e})") from None
        for name in pool.all():
            if client.has_collection(name):
                client.load_collection(name)
        return MilvusGeneration(client, uri, names, manifest, Path(root) if root else Path(uri), pool, epoch)


def rows_of(ordered: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """The rowids of the versions with these serials, given every alive version's serial in rowid
    order (which is serial order: a generation's records are its alive versions by serial)."""
    return np.searchsorted(ordered, np.asarray(serials, dtype=np.int64))


class MilvusField(VectorField):
    """One pool vector collection as a generation sees it: record `row` owns the vector ids
    ``[starts[row], starts[row] + counts[row])``, where ``starts[row] >> SERIAL_SHIFT`` is the serial
    of its version (ascending with the rowid), and the rows alive at `epoch` are the generation's."""

    def __init__(self, client, uri: str, collection: str, dim: int, starts: np.ndarray, counts: np.ndarray,
                 kind: str, epoch: int):
        self.client, self.uri, self.collection = client, uri, collection
        self.starts, self._counts = starts, counts
        self.dim, self.size, self.kind = dim, int(counts.sum()), kind
        self.epoch = epoch
        self._serials = starts >> schema.SERIAL_SHIFT
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

    def rows_of(self, serials: np.ndarray) -> np.ndarray:
        """The rowids of the versions with these serials."""
        return rows_of(self._serials, serials)

    def nearest(self, qv: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
        if self.size == 0 or (allowed is not None and len(allowed) == 0):
            return np.zeros(0, dtype=np.int64)
        limit = min(k, self.size, schema.LIMIT)
        if allowed is not None and len(allowed) > max(PREFILTER_SERIALS, OVERSAMPLE_SHARE * len(self.starts)):
            found = self._nearest_among(qv, limit, allowed)
            if found is not None:
                return found
        # the allow-list's serials are versions alive at the epoch; without one, the epoch says which
        expression = (rowids_expression(self.starts[allowed] >> schema.SERIAL_SHIFT, "serial")
                      if allowed is not None else schema.alive_at(self.epoch))
        return self._search(qv, limit, expression)

    def _search(self, qv: np.ndarray, limit: int, expression: str) -> np.ndarray:
        """The rowids owning the `limit` vectors nearest to `qv` among those `expression` selects, nearest first."""
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, limit)}}
        with talking(self.uri, f"searching {self.collection}"):
            found = self.client.search(self.collection, data=[np.asarray(qv, dtype=np.float32)], anns_field="vector",
                                       limit=limit, search_params=params, output_fields=["serial"], filter=expression)
        return self.rows_of(np.array([hit["entity"]["serial"] for hit in found[0]], dtype=np.int64))

    def _nearest_among(self, qv: np.ndarray, limit: int, allowed: np.ndarray) -> np.ndarray | None:
        """`nearest` for a long allow-list (a broad filter: a year range, a language): the epoch's nearest
        vectors, oversampled by the share of records allowed, then those of allowed records, in order.
        None when too few of them came back to be sure of the top `limit` (the caller then sends the
        allow-list itself). The search returns the epoch's nearest vectors in order, so the first
        `limit` allowed among them are the allowed nearest ones."""
        share = len(allowed) / max(len(self.starts), 1)
        ask = min(self.size, schema.LIMIT, limit + int(np.ceil(OVERSAMPLE * limit / share)))
        rows = self._search(qv, ask, schema.alive_at(self.epoch))
        kept = rows[np.isin(rows, allowed)]
        if len(kept) >= limit or ask >= self.size:
            return kept[:limit]
        return None

    def counts(self, rows: np.ndarray) -> np.ndarray:
        return self._counts[rows]

    def _fetch(self, ids: np.ndarray) -> np.ndarray:
        """The vectors with these ids (rows in the order asked), from the cache or Milvus."""
        ids = np.asarray(ids, dtype=np.int64)
        wanted = [i for i in dict.fromkeys(ids.tolist()) if i not in self._cache]
        with talking(self.uri, f"reading vectors of {self.collection}"):
            for a in range(0, len(wanted), GET_BATCH):
                for row in self.client.get(self.collection, ids=wanted[a:a + GET_BATCH], output_fields=["vector"]):
                    self._cache[int(row["id"])] = np.asarray(row["vector"], dtype=np.float32)
        missing = [i for i in wanted if i not in self._cache]
        if missing:
            raise DamagedIndex(f"{self.uri}: {self.collection} lacks vectors {missing[:5]}")
        out = np.stack([self._cache[i] for i in ids.tolist()]) if len(ids) else np.zeros((0, self.dim), np.float32)
        for i in ids.tolist():
            self._cache.move_to_end(i)
        while len(self._cache) > CACHE_VECTORS:
            self._cache.popitem(last=False)
        return out

    def best(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        counts = self._counts[rows]
        matrix = self._fetch(expand_ranges(self.starts[rows], counts))
        local_starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64) if len(rows) else counts
        return range_max(matrix, local_starts, counts, qv)

    def first(self, rows: np.ndarray, qv: np.ndarray) -> np.ndarray:
        return self._fetch(self.starts[np.asarray(rows, dtype=np.int64)]) @ qv

    def cosines(self, row: int, offsets: np.ndarray, qv: np.ndarray) -> np.ndarray:
        return self._fetch(self.starts[row] + np.asarray(offsets, dtype=np.int64)) @ qv

    def vectors(self, row: int) -> np.ndarray:
        start = int(self.starts[row])
        return self._fetch(np.arange(start, start + int(self._counts[row])))


class MilvusTerms:
    """BM25 over the versions' sparse rows of term-frequency parts: a query's score for a record is
    the inner product of {column: token weight × idf} with the record's row, which is the sum the
    local `LexicalIndex.scores` takes over bm25s's precomputed idf × tf part (docs/milvus.md)."""

    def __init__(self, generation: MilvusGeneration):
        self.g = generation
        self.client, self.uri, self.pool, self.epoch = generation.client, generation.uri, generation.pool, \
            generation.epoch
        self._vocab: dict[str, tuple[int, int] | None] = {}  # token -> (column, df), None: unknown

    @property
    def num_docs(self) -> int:
        return self.g.records

    def _lookup(self, tokens: list[str]) -> dict[str, tuple[int, int] | None]:
        unknown = [t for t in dict.fromkeys(tokens) if t not in self._vocab]
        with talking(self.uri, "reading the vocabulary"):
            for a in range(0, len(unknown), GET_BATCH):
                part = unknown[a:a + GET_BATCH]
                found = {r["term"]: (int(r["column"]), int(r["df"])) for r in self.client.query(
                    self.pool.vocab, filter=f"term in [{', '.join(map(literal, part))}] and "
                                            f"{schema.alive_at(self.epoch)}",
                    output_fields=["term", "column", "df"], limit=len(part))}
                for t in part:
                    self._vocab[t] = found.get(t)
        return {t: self._vocab[t] for t in tokens}

    def coverage(self, tokens: list[str], weights: list[float]) -> float:
        total = sum(weights)
        known = self._lookup(tokens)
        return sum(w for t, w in zip(tokens, weights, strict=True) if known[t] is not None) / total if total else 0.0

    def document_frequency(self, tokens: list[str]) -> list[int]:
        known = self._lookup(tokens)
        return [known[t][1] if known[t] is not None else 0 for t in tokens]

    def scores(self, tokens: list[str], weights: list[float] | None = None) -> np.ndarray:
        """BM25 of every record (0 where no term matches). One search returns every matching record
        while they number under `schema.LIMIT` (a search's most rows); past that, one search per window
        of that many serials (a filter Milvus applies before ranking, so each window comes back whole).
        Not range searches by score: milvus-lite 3.2.2 answers one from the top 5 x limit only."""
        out = np.zeros(self.num_docs, dtype=np.float32)
        weights = [1.0] * len(tokens) if weights is None else weights
        query: dict[int, float] = {}
        known_terms = self._lookup(tokens)
        for tok, w in zip(tokens, weights, strict=True):
            if (known := known_terms[tok]) is not None:
                column, df = known
                query[column] = query.get(column, 0.0) + float(w) * idf(df, self.num_docs)
        query = {c: w for c, w in query.items() if w != 0.0}
        if not query:
            return out
        limit = min(schema.LIMIT, self.num_docs)
        alive = schema.alive_at(self.epoch)
        hits = self._search(query, limit, alive)
        if len(hits) == limit and limit < self.num_docs:
            top = self.g.serial_limit
            hits = [h for a in range(0, top, limit)
                    for h in self._search(query, limit, f"serial >= {a} and serial < {a + limit} and {alive}")]
        if hits:
            rows = self.g.rows_of(np.array([h["entity"]["serial"] for h in hits], dtype=np.int64))
            out[rows] = np.array([h["distance"] for h in hits], dtype=np.float32)
        return out

    def _search(self, query: dict[int, float], limit: int, expression: str) -> list[dict]:
        params = {"metric_type": "IP", "params": {"drop_ratio_search": 0.0}}
        with talking(self.uri, "searching BM25 terms"):
            return self.client.search(self.pool.versions, data=[query], anns_field="terms", limit=limit,
                                      search_params=params, output_fields=["serial"], filter=expression)[0]


class MilvusGeneration(Storage):
    """A generation mirrored at Milvus, opened read-only (`open_milvus`)."""

    def __init__(self, client, uri: str, names: schema.Names, manifest: Manifest, root: Path, pool: schema.Pool,
                 epoch: int):
        self.client, self.uri, self.names, self.pool, self.epoch = client, uri, names, pool, epoch
        self.root, self.name, self.manifest, self.records = root, names.generation, manifest, manifest.records
        table = self._table
        if len(table["serial"]) != self.records:
            raise DamagedIndex(f"{uri}: {pool.versions} holds {len(table['serial'])} records alive at epoch {epoch}, "
                               f"the manifest of {names.generation} says {self.records}")
        self._fields: dict[str, MilvusField] = {}
        starts = table["serial"] << schema.SERIAL_SHIFT
        for kind, prefix, dim in ((DOCS, "doc", manifest.dim), (SENTENCES, "sent", manifest.dim),
                                  (PASSAGES, "passage", None)):
            if kind == PASSAGES and not manifest.settings.get("english_model"):
                continue
            collection = pool.vectors(kind)
            index = self.client.describe_index(collection, "vector") or {}
            if dim is None:
                dim = self._dim(collection)
            self._fields[kind] = MilvusField(client, uri, collection, dim, starts, table[f"{prefix}_count"],
                                             str(index.get("index_type", "milvus")).lower(), epoch)

    def _dim(self, collection: str) -> int:
        for f in self.client.describe_collection(collection)["fields"]:
            if f["name"] == "vector":
                return int(f["params"]["dim"])
        raise DamagedIndex(f"{self.uri}: {collection} has no vector field")

    @cached_property
    def serial_limit(self) -> int:
        """One above every serial the pool has given (windows of serials cover them all)."""
        props = self.client.describe_collection(self.pool.versions).get("properties") or {}
        return int(props.get(schema.NEXT_SERIAL) or 1)

    @cached_property
    def _table(self) -> dict[str, np.ndarray]:
        """serial, version key, counts, year (0: none) and id of every alive version, in serial
        order (their rowids): read once."""
        columns: dict[str, list] = {k: [] for k in ("serial", "vkey", *COUNT_FIELDS, "year", "id")}
        alive = schema.alive_at(self.epoch)
        with talking(self.uri, f"reading {self.pool.versions}"):
            for a in range(0, self.serial_limit, schema.LIMIT):
                found = self.client.query(self.pool.versions,
                                          filter=f"serial >= {a} and serial < {a + schema.LIMIT} and {alive}",
                                          output_fields=list(columns), limit=schema.LIMIT)
                for row in sorted(found, key=lambda r: r["serial"]):
                    for k, values in columns.items():
                        values.append(row[k])
        out = {k: np.array(v, dtype=np.int64) for k, v in columns.items() if k not in ("year", "id")}
        out["year"] = np.array([y or 0 for y in columns["year"]], dtype=np.int64)
        out["id"] = np.array(columns["id"], dtype=object)
        return out

    def rows_of(self, serials: np.ndarray) -> np.ndarray:
        """The rowids of the alive versions with these serials (serial order is rowid order)."""
        return rows_of(self._table["serial"], serials)

    # --- the seam ----------------------------------------------------------------------------
    def field(self, name: str) -> MilvusField | None:
        return self._fields.get(name)

    @cached_property
    def terms(self) -> MilvusTerms:
        return MilvusTerms(self)

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        expression = filter_expression(filters)
        if expression is None:
            return None
        serials: list[int] = []
        alive = schema.alive_at(self.epoch)
        with talking(self.uri, "filtering records"):
            for a in range(0, self.serial_limit, schema.LIMIT):  # a window of serials a query: within LIMIT rows
                serials += [r["serial"] for r in self.client.query(
                    self.pool.versions,
                    filter=f"serial >= {a} and serial < {a + schema.LIMIT} and {alive} and ({expression})",
                    output_fields=["serial"], limit=schema.LIMIT)]
        return np.sort(self.rows_of(np.array(serials, dtype=np.int64)))

    def get(self, rows: list[int]) -> Mapping[int, StoredRecord]:
        out: dict[int, StoredRecord] = {}
        rows = [int(r) for r in rows]
        vkeys = self._table["vkey"][np.array(rows, dtype=np.int64)].tolist() if rows else []
        row_of = dict(zip(vkeys, rows, strict=True))
        with talking(self.uri, f"reading {self.pool.versions}"):
            for a in range(0, len(vkeys), GET_BATCH):
                for found in self.client.get(self.pool.versions, ids=vkeys[a:a + GET_BATCH],
                                             output_fields=["vkey", "serial", "record", *COUNT_FIELDS]):
                    row = row_of[int(found["vkey"])]
                    out[row] = stored_of(row, found)
        return out

    def find(self, key: str) -> StoredRecord | None:
        """By id, else PMID, else DOI, as the local store looks them up."""
        key = key.strip()
        alive = schema.alive_at(self.epoch)
        for field, value in (("id", key), ("pmid", key.removeprefix("pmid:")), ("doi", key.lower().removeprefix("doi:"))):
            if not value:
                continue
            with talking(self.uri, f"reading {self.pool.versions}"):
                found = self.client.query(self.pool.versions, filter=f"{field} == {literal(value)} and {alive}",
                                          output_fields=["serial", "record", *COUNT_FIELDS], limit=16)
            if found:
                first = min(found, key=lambda r: r["serial"])
                return stored_of(int(self.rows_of(np.array([first["serial"]]))[0]), first)
        return None

    def sentences(self, row: int) -> list[SentenceText]:
        start, count = int(self._table["serial"][row]) << schema.SERIAL_SHIFT, int(self._table["sent_count"][row])
        if count == 0:
            return []
        collection = self.pool.vectors(SENTENCES)
        with talking(self.uri, f"reading {collection}"):
            found = self.client.get(collection, ids=list(range(start, start + count)),
                                    output_fields=["id", "lang", "position", "text"])
        return [SentenceText(r["id"] - start, r["lang"], r["text"])
                for r in sorted(found, key=lambda r: r["id"]) if r["position"] > 0]

    def containing(self, phrases: Sequence[str], excluded: Sequence[str] = (),
                   rows: np.ndarray | None = None) -> np.ndarray:
        """Matched here, over each record's folded titles and abstracts (as the local backend matches):
        Milvus's ``like`` has no word boundaries and no Traditional/Simplified folding."""
        keep = np.arange(self.records, dtype=np.int64) if rows is None else np.unique(np.asarray(rows, np.int64))
        if len(keep) > self.records // 8 or "_folded" in self.__dict__:
            texts: Mapping[int, str] | list[str] = self._folded
        else:
            texts = dict(zip(keep.tolist(), self._folded_texts(keep.tolist()), strict=True))
        for phrase in (Phrase(p) for p in phrases):
            keep = np.array([r for r in keep.tolist() if phrase.in_text(texts[r])], dtype=np.int64)
        for phrase in (Phrase(p) for p in excluded):
            keep = np.array([r for r in keep.tolist() if not phrase.in_text(texts[r])], dtype=np.int64)
        return keep

    @cached_property
    def _folded(self) -> list[str]:
        return self._folded_texts(list(range(self.records)))

    def _folded_texts(self, rows: list[int]) -> list[str]:
        """Titles and abstracts of `rows`, folded, one field a line (no phrase spans two fields)."""
        stored = self.get(rows)
        out = []
        for row in rows:
            r = stored[row].record
            fields = (r.title.get("zh"), r.title.get("en"), r.abstract.get("zh"), r.abstract.get("en"))
            out.append("\n".join(fold(f).replace("\n", " ") for f in fields if f))
        return out

    def newest_order(self) -> tuple[np.ndarray, np.ndarray]:
        return self._newest_order

    @cached_property
    def _newest_order(self) -> tuple[np.ndarray, np.ndarray]:
        """Year descending, no year last, then id (as the local store orders them)."""
        years, ids = self._table["year"], self._table["id"]
        order = np.array(sorted(range(self.records), key=lambda r: (years[r] == 0, -years[r], ids[r])), dtype=np.int64)
        position = np.empty(self.records, dtype=np.int64)
        position[order] = np.arange(self.records)
        return order, position

    def iter_records(self) -> Iterator[StoredRecord]:
        for a in range(0, self.records, GET_BATCH):
            part = list(range(a, min(a + GET_BATCH, self.records)))
            stored = self.get(part)
            yield from (stored[r] for r in part)

    def record_keys(self) -> list[tuple[str, str, str]]:
        """(id, content hash, source) of every alive version in serial (rowid) order. A pool
        written before versions had a `source` field gives it from the record's JSON."""
        fields = {f["name"] for f in self.client.describe_collection(self.pool.versions)["fields"]}
        wanted = ["serial", "id", "content_hash", "source" if "source" in fields else "record"]
        alive = schema.alive_at(self.epoch)
        out: list[tuple[int, str, str, str]] = []
        with talking(self.uri, f"reading {self.pool.versions}"):
            for a in range(0, self.serial_limit, schema.LIMIT):
                for row in self.client.query(self.pool.versions, output_fields=wanted, limit=schema.LIMIT,
                                             filter=f"serial >= {a} and serial < {a + schema.LIMIT} and {alive}"):
                    source = row["source"] if "source" in row else (row["record"].get("source") or "")
                    out.append((int(row["serial"]), row["id"], row["content_hash"], source))
        out.sort()
        return [(rid, chash, source) for _, rid, chash, source in out]

    def describe(self) -> dict:
        alive = schema.alive_at(self.epoch)

        def count(expression: str) -> int:
            with talking(self.uri, "counting records"):
                return int(self.client.query(self.pool.versions, filter=f"{alive} and {expression}",
                                             output_fields=["count(*)"])[0]["count(*)"])

        years = self._table["year"][self._table["year"] > 0]
        passages = self._fields.get(PASSAGES)
        return {
            "records_zh": count("has_zh == true"), "records_en": count("has_en == true"),
            "records_bilingual": count("has_zh == true and has_en == true"),
            "years": (int(years.min()), int(years.max())) if len(years) else None,
            "index_types": {f.collection: f.kind for f in self._fields.values()},
            "english_passages": passages.size if passages else None,
            "size_bytes": _size_on_disk(self.uri),
        }

    def close(self) -> None:
        self.client.close()


def stored_of(rowid: int, row: dict) -> StoredRecord:
    """A version's row (its record JSON, serial and counts) as the record at `rowid`."""
    d = row["record"]
    record = Record(
        id=d["id"], title=dict(d.get("title") or {}), abstract=dict(d.get("abstract") or {}),
        pmid=d.get("pmid"), doi=d.get("doi"), authors=tuple(d.get("authors") or ()), journal=d.get("journal"),
        year=d.get("year"), volume=d.get("volume"), issue=d.get("issue"), pages=d.get("pages"),
        keywords=tuple(d.get("keywords") or ()), pub_types=tuple(d.get("pub_types") or ()), source=d.get("source") or "",
    )
    start = int(row["serial"]) << schema.SERIAL_SHIFT  # every field's run of this version starts there
    return StoredRecord(rowid, record, d.get("tags") or {}, d.get("content_hash") or "",
                        start, int(row["doc_count"]), start, int(row["sent_count"]))


def _size_on_disk(uri: str) -> int:
    """Bytes of a milvus-lite database (its file or folder); 0 for a server, which does not say."""
    from index.storage.milvus.connect import is_server

    path = Path(uri)
    if is_server(uri) or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


__all__ = ["MilvusField", "MilvusGeneration", "MilvusTerms", "generations", "open_milvus"]
