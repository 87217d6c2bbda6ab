"""Writing a new index generation from records: chunk, embed (cache first), store, switch.

The generation is written into ``generations/.tmp-<name>``, every file fsync'd, renamed to
``generations/<name>``, and only then made current. A crash at any point leaves the previous
generation current and at worst a ``.tmp-`` folder that the next run removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from corpus.record import Record
from index import vectors
from index.cache import EmbeddingCache
from index.chunking import Chunk, chunk_record
from index.encoders import Encoder
from index.layout import IndexLayout, fsync_dir, fsync_file
from index.manifest import Manifest
from index.store import StoreWriter

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EMBED_BATCH = 1024  # texts per encode call: one cache commit and one progress tick each


@dataclass
class BuildOptions:
    index_type: str = "auto"
    keep_generations: int = 2  # current + previous: a reader that opened the previous one keeps working
    batch_size: int = 64


@dataclass
class BuildReport:
    generation: Path
    records: int
    docs: int
    sentences: int
    embedded_chunks: int
    cached_chunks: int
    seconds: float
    duplicates: list[str] = field(default_factory=list)


def content_hash(record: Record) -> str:
    """Hash of everything stored about a record except where it was read from."""
    d = record.to_dict()
    d.pop("source", None)
    return hashlib.blake2b(json.dumps(d, sort_keys=True, ensure_ascii=False).encode(), digest_size=16).hexdigest()


def _noop(stage: str, done: int, total: int) -> None:
    pass


def embed_chunks(chunks: list[Chunk], encoder: Encoder, cache: EmbeddingCache, batch_size: int,
                 progress: Progress = _noop) -> tuple[dict[str, np.ndarray], int, int]:
    """Vectors for every distinct chunk text: from the cache, else encoded (longest first) and cached."""
    keys = {c.key: c.text for c in chunks}
    found = cache.get_many(list(keys))
    missing = sorted((k for k in keys if k not in found), key=lambda k: -len(keys[k]))
    total = len(missing)
    progress("embed", 0, total)
    for i in range(0, total, EMBED_BATCH):
        part = missing[i : i + EMBED_BATCH]
        vecs = encoder.encode([keys[k] for k in part], batch_size=batch_size)
        cache.put_many(part, vecs)
        found.update(zip(part, vecs, strict=True))
        progress("embed", min(i + EMBED_BATCH, total), total)
    return found, total, len(keys) - total


def _generation_name() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def clean_stale(layout: IndexLayout, keep: int) -> None:
    """Remove unfinished ``.tmp-`` generations and all but the newest `keep` finished ones.

    Call only while holding the writer lock.
    """
    if not layout.generations.exists():
        return
    current = layout.current_name()
    finished = []
    for child in layout.generations.iterdir():
        if child.name.startswith(".tmp-"):
            shutil.rmtree(child, ignore_errors=True)
        elif child.is_dir():
            finished.append(child)
    finished.sort(key=lambda p: p.name, reverse=True)
    keep_names = {current} | {p.name for p in finished[:keep]}
    for child in finished:
        if child.name not in keep_names:
            shutil.rmtree(child, ignore_errors=True)


def write_generation(
    layout: IndexLayout,
    records: Iterable[Record],
    encoder: Encoder,
    model_path: str | None,
    options: BuildOptions | None = None,
    tagger: Callable[[Record], dict] | None = None,
    extra_writers: Iterable[Callable[[Path, list[Record]], list[str]]] = (),
    progress: Progress = _noop,
    cache_dir: Path | None = None,
) -> BuildReport:
    """Build a complete generation from `records` and make it current. Caller holds the lock."""
    options = options or BuildOptions()
    start = time.perf_counter()
    layout.generations.mkdir(parents=True, exist_ok=True)
    clean_stale(layout, options.keep_generations)

    unique: list[Record] = []
    seen: set[str] = set()
    duplicates: list[str] = []
    for rec in records:
        if rec.id in seen:
            duplicates.append(rec.id)
            continue
        seen.add(rec.id)
        unique.append(rec)

    chunked = [chunk_record(rec) for rec in unique]
    all_chunks = [c for docs, sents in chunked for c in (*docs, *sents)]
    cache = EmbeddingCache(cache_dir or layout.cache_dir, encoder.model_id, encoder.dim)
    try:
        table, embedded, cached = embed_chunks(all_chunks, encoder, cache, options.batch_size, progress)
    finally:
        cache.close()

    name = _generation_name()
    tmp = layout.generations / f".tmp-{name}"
    tmp.mkdir()
    progress("store", 0, len(unique))
    store = StoreWriter(tmp / "store.sqlite")
    doc_vecs: list[np.ndarray] = []
    sent_vecs: list[np.ndarray] = []
    for rowid, (rec, (docs, sents)) in enumerate(zip(unique, chunked, strict=True)):
        store.add(
            rowid, rec, tagger(rec) if tagger else {}, content_hash(rec),
            len(doc_vecs), [d.lang for d in docs],
            len(sent_vecs), [(s.lang, s.position, s.text) for s in sents],
        )
        doc_vecs += [table[d.key] for d in docs]
        sent_vecs += [table[s.key] for s in sents]
    store.set_meta("model_id", encoder.model_id)
    store.close()
    progress("store", len(unique), len(unique))

    types = {}
    for fname, vecs in (("docs.faiss", doc_vecs), ("sents.faiss", sent_vecs)):
        matrix = np.vstack(vecs) if vecs else np.zeros((0, encoder.dim), dtype=np.float32)
        kind = vectors.choose_type(len(matrix), options.index_type)
        vectors.write(vectors.build(matrix, kind), tmp / fname)
        types[fname] = kind
    files = ["store.sqlite", "docs.faiss", "sents.faiss"]
    for writer in extra_writers:
        files += writer(tmp, unique)

    manifest = Manifest(
        model_id=encoder.model_id, model_path=model_path, dim=encoder.dim, records=len(unique),
        docs=len(doc_vecs), sentences=len(sent_vecs),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"), index_types=types,
        settings={"index_type": options.index_type},
    )
    for f in files:
        fsync_file(tmp / f)
    manifest.record_files(tmp, files)
    manifest.write(tmp)
    fsync_dir(tmp)
    final = layout.generations / name
    os.rename(tmp, final)
    fsync_dir(layout.generations)
    layout.switch_to(final)
    clean_stale(layout, options.keep_generations)
    return BuildReport(final, len(unique), len(doc_vecs), len(sent_vecs), embedded, cached,
                       time.perf_counter() - start, duplicates)
