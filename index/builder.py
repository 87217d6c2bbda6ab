"""Writing a new index generation from records: chunk, embed (cache first), store, switch.

The generation is written into ``generations/.tmp-<name>``, every file and folder fsync'd,
renamed to ``generations/<name>``, and only then made current. A crash (kill -9 included) at any
point leaves the previous generation current and intact, plus at worst a ``.tmp-`` folder, a
``CURRENT.tmp.<pid>`` file or a finished generation that never became current; the next writer
removes those, and only while it holds the writer lock (see `clean_stale`). Embeddings already
computed survive in the cache, so the rerun does not pay for them again.

Generation names start with a sequence number (``g000042-<UTC time>-<pid>``) one above every
name already present, so "newer" never depends on the clock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from corpus.record import Record
from index.chunking import Chunk, chunk_record
from index.models.cache import EmbeddingCache
from index.models.encoders import Encoder, ModelSpec
from index.storage import vectors, verify
from index.storage.atomic import fsync_dir, fsync_tree, replace
from index.storage.crashpoints import crash_point
from index.storage.layout import CURRENT_TMP_PREFIX, TMP_PREFIX, IndexLayout
from index.storage.manifest import Manifest
from index.storage.store import RECORD_RANGES_FILE, StoreWriter

Progress = Callable[[str, int, int], None]  # (stage, done, total)
EncoderFactory = Callable[[ModelSpec, int | None], Encoder]  # (model, dim if known): indexing_encoder, or Ray's
EMBED_BATCH = 1024  # texts per encode call: one cache commit and one progress tick each
ENV_EMBED_BATCH = "ONCOSEARCH_EMBED_BATCH"  # override (tests use small batches for more kill points)
_SEQ = re.compile(r"^g(\d+)-")


def embed_batch() -> int:
    value = os.environ.get(ENV_EMBED_BATCH)
    return max(1, int(value)) if value else EMBED_BATCH


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
    without_abstract: int = 0  # title-only records among `records`


def content_hash(record: Record) -> str:
    """Hash of everything stored about a record except where it was read from."""
    d = record.to_dict()
    d.pop("source", None)
    return hashlib.blake2b(json.dumps(d, sort_keys=True, ensure_ascii=False).encode(), digest_size=16).hexdigest()


def no_progress(stage: str, done: int, total: int) -> None:
    pass


def _encoded_parts(encoder: Encoder, texts: list[str], step: int, batch_size: int
                   ) -> Iterator[tuple[Sequence[int], np.ndarray]]:
    """(positions in `texts`, vectors) per batch of at most `step`: one `encode` call per batch, or the
    encoder's own `encode_stream` where it has one (Ray: one dataset for all texts, so each actor loads
    its model once; batches arrive in any order, index/models/ray_embed.py)."""
    stream = getattr(encoder, "encode_stream", None)
    if stream is not None:
        yield from stream(texts, step, batch_size)
        return
    for i in range(0, len(texts), step):
        yield range(i, min(i + step, len(texts))), encoder.encode(texts[i : i + step], batch_size=batch_size)


def embed_chunks(chunks: list[Chunk], encoder: Encoder, cache: EmbeddingCache, batch_size: int,
                 progress: Progress = no_progress, stage: str = "embed") -> tuple[dict[str, np.ndarray], int, int]:
    """Vectors for every distinct chunk text: from the cache, else encoded (longest first) and cached.

    Used for USE chunks ("embed") and for the English leg's passages ("embed-en", index/english.py).
    """
    keys = {c.key: c.text for c in chunks}
    found = cache.get_many(list(keys))
    missing = sorted((k for k in keys if k not in found), key=lambda k: -len(keys[k]))
    total = len(missing)
    done = 0
    progress(stage, 0, total)
    for positions, vecs in _encoded_parts(encoder, [keys[k] for k in missing], embed_batch(), batch_size):
        part = [missing[j] for j in positions]
        cache.put_many(part, vecs)
        crash_point("embed-batch")
        found.update(zip(part, vecs, strict=True))
        done += len(part)
        progress(stage, done, total)
    return found, total, len(keys) - total


def _seq(name: str) -> int:
    m = _SEQ.match(name.removeprefix(TMP_PREFIX))
    return int(m.group(1)) if m else 0


def _generation_name(layout: IndexLayout) -> str:
    """``g<seq>-<UTC time>-<pid>``, seq one above any generation present (finished or not)."""
    existing = [_seq(p.name) for p in layout.generations.iterdir()] if layout.generations.exists() else []
    current = layout.current_name()
    seq = max([0, *existing, _seq(current or "")]) + 1
    return f"g{seq:06d}-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + f"-{os.getpid()}"


def _order(name: str) -> tuple[int, str]:
    """Age order of generations: sequence number, then name (names from before sequence numbers sort first)."""
    return _seq(name), name


def _remove(path: Path) -> None:
    """Take a folder out of sight with one rename (to ``.tmp-``), then delete it.

    A crash halfway through the delete leaves a ``.tmp-`` folder, never a half-deleted generation
    that still looks finished.
    """
    if path.name.startswith(TMP_PREFIX):
        doomed = path
    else:
        doomed = path.with_name(f"{TMP_PREFIX}removed-{path.name}")
        os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)
    crash_point("clean")


def clean_stale(layout: IndexLayout, keep: int) -> None:
    """Remove what crashed or superseded writes left behind. Call only while holding the writer lock.

    - ``generations/.tmp-*`` folders: unfinished (or half-removed) generations. Only a writer makes
      them and only one writer runs at a time, so under the lock none of them is in use.
    - ``CURRENT.tmp.*`` files: a switch that died before its rename.
    - finished generations newer than the current one: renamed into place, but the run died before
      switching CURRENT to them. No reader ever saw them.
    - all but `keep` generations up to the current one: the current and the `keep - 1` before it
      stay, so a reader that opened the previous generation just before a switch keeps working.
      A generation is only ever removed after two later switches.

    With no valid CURRENT (no index yet, or CURRENT damaged) finished generations are left alone.
    """
    for child in layout.root.glob(f"{CURRENT_TMP_PREFIX}*"):
        child.unlink(missing_ok=True)
        crash_point("clean")
    if not layout.generations.exists():
        return
    finished = []
    for child in sorted(layout.generations.iterdir()):
        if child.name.startswith(TMP_PREFIX):
            _remove(child)
        elif child.is_dir():
            finished.append(child)
    current = layout.current_name()
    if current is None or current not in {p.name for p in finished}:
        return
    finished.sort(key=lambda p: _order(p.name), reverse=True)
    names = [p.name for p in finished]
    at = names.index(current)
    for child in finished[:at]:  # newer than current: never switched to
        _remove(child)
    for child in finished[at + max(keep, 1):]:
        _remove(child)


def write_generation(
    layout: IndexLayout,
    records: Iterable[Record],
    encoder: Encoder,
    model_path: str | None,
    options: BuildOptions | None = None,
    tagger: Callable[[Record], dict] | None = None,
    extra_writers: Iterable[Callable[[Path, list[Record]], list[str]]] = (),
    progress: Progress = no_progress,
    cache_dir: Path | None = None,
    settings: dict | None = None,
    before_switch: Callable[[Path], None] | None = None,
) -> BuildReport:
    """Build a complete generation from `records` and make it current. Caller holds the lock.

    `before_switch(generation_dir)` runs once the generation's folder is finished, before CURRENT
    names it (a second backend's copy, index/storage/milvus/mirrors.py); if it raises, CURRENT
    stays as it was and the next write removes the folder.
    """
    options = options or BuildOptions()
    start = time.perf_counter()
    if not layout.generations.exists():
        layout.generations.mkdir(parents=True)
        fsync_dir(layout.root)
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

    name = _generation_name(layout)
    tmp = layout.generations / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    progress("store", 0, len(unique))
    store = StoreWriter(tmp / "store.sqlite")
    doc_vecs: list[np.ndarray] = []
    sent_vecs: list[np.ndarray] = []
    ranges: list[tuple[int, int, int, int, int]] = []
    for rowid, (rec, (docs, sents)) in enumerate(zip(unique, chunked, strict=True)):
        store.add(
            rowid, rec, tagger(rec) if tagger else {}, content_hash(rec),
            len(doc_vecs), [d.lang for d in docs],
            len(sent_vecs), [(s.lang, s.position, s.text) for s in sents],
        )
        ranges.append((rowid, len(doc_vecs), len(docs), len(sent_vecs), len(sents)))
        doc_vecs += [table[d.key] for d in docs]
        sent_vecs += [table[s.key] for s in sents]
        crash_point("store")
    store.set_meta("model_id", encoder.model_id)
    store.close()
    crash_point("store-commit")
    progress("store", len(unique), len(unique))

    types = {}
    for fname, vecs in (("docs.faiss", doc_vecs), ("sents.faiss", sent_vecs)):
        matrix = np.vstack(vecs) if vecs else np.zeros((0, encoder.dim), dtype=np.float32)
        kind = vectors.choose_type(len(matrix), matrix.shape[1], options.index_type)
        vectors.write(vectors.build(matrix, kind), tmp / fname)
        types[fname] = kind
        crash_point("faiss")
    # The same ranges as the store's records table, as one array a search loads without a query
    # (fetching them row by row was 40 ms of a cold search at 20k abstracts).
    np.save(tmp / RECORD_RANGES_FILE, np.array(ranges, dtype=np.int64).reshape(-1, 5))
    files = ["store.sqlite", "docs.faiss", "sents.faiss", RECORD_RANGES_FILE]
    for writer in extra_writers:
        files += writer(tmp, unique)
    crash_point("lexical")

    manifest = Manifest(
        model_id=encoder.model_id, model_path=model_path, dim=encoder.dim, records=len(unique),
        docs=len(doc_vecs), sentences=len(sent_vecs),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"), index_types=types,
        settings={"index_type": options.index_type, **(settings or {})},
    )
    final = _finish(layout, tmp, manifest, files, before_switch, options.keep_generations)
    return BuildReport(final, len(unique), len(doc_vecs), len(sent_vecs), embedded, cached,
                       time.perf_counter() - start, duplicates, sum(not r.has_abstract() for r in unique))


def write_bare_generation(layout: IndexLayout, manifest: Manifest, before_switch: Callable[[Path], None],
                          keep: int = BuildOptions.keep_generations) -> Path:
    """Make current a generation whose records live elsewhere (a Milvus pool, written by
    `before_switch`): its folder holds its manifest alone, written, renamed and switched to as a
    full generation is. Caller holds the lock."""
    if not layout.generations.exists():
        layout.generations.mkdir(parents=True)
        fsync_dir(layout.root)
    name = _generation_name(layout)
    tmp = layout.generations / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    return _finish(layout, tmp, manifest, [], before_switch, keep)


def _finish(layout: IndexLayout, tmp: Path, manifest: Manifest, files: list[str],
            before_switch: Callable[[Path], None] | None, keep: int) -> Path:
    """Seal a written ``.tmp-`` generation: fsync, manifest, rename, `before_switch`, switch, clean."""
    fsync_tree(tmp)
    crash_point("fsync")
    manifest.record_files(tmp, files)
    manifest.write(tmp)
    fsync_dir(tmp)
    crash_point("manifest")
    final = layout.generations / tmp.name.removeprefix(TMP_PREFIX)
    replace(tmp, final)  # and fsync generations/
    crash_point("rename")
    if before_switch is not None:
        before_switch(final)
    layout.switch_to(final)
    crash_point("switch")
    verify.remember(final, manifest)  # readers need not hash what was hashed a moment ago
    clean_stale(layout, keep)
    return final
