"""Writing a generation that lives only in Milvus (``index build/update --milvus-only``).

An index that keeps local files writes every generation whole (store, FAISS, BM25) and mirrors it:
the local write grows with the corpus, and at tens of millions of abstracts it no longer fits a
night. Milvus-only, a write costs what changed:

1. the pool's versions alive in the current generation's mirror are read by key (id, content
   hash, source: no text), and the records just read are merged into them by the same rule as a
   local update (`index.pipeline._merge_update`);
2. the records whose version the pool lacks (new or changed) are indexed as a local generation in
   scratch space (``generations/.tmp-milvus-new-<pid>``) by the same code as a full build: chunks,
   the embedding cache, tags, BM25 tokens, English passages;
3. the new generation's folder gets its manifest alone (counts, models, settings with
   ``"storage": "milvus"``); before CURRENT names it, the pool is brought to hold it
   (writer.mirror_generation with a sources.DeltaSource): the scratch records and their vectors
   inserted, the versions it no longer holds retired, document frequencies moved by the difference;
4. CURRENT switches, and the scratch folder is deleted.

A kill at any point leaves CURRENT on the previous generation, whose complete mirror searches keep
reading; the next run removes the unfinished folders (index.builder.clean_stale) and undoes the pool
rows the killed run wrote (writer.PoolWriter), as for a mirrored local generation. Records the
pool lacks although the current generation holds them (its models or code changed: a new pool)
are read back from the current generation, wherever it lives, and written like new ones.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from corpus.record import Record
from index.builder import BuildOptions, BuildReport, EncoderFactory, Progress, clean_stale, write_bare_generation
from index.models.encoders import DEFAULT_MODEL, Encoder, ModelSpec
from index.pipeline import Held, index_records, key_of, record_tagger
from index.storage.base import Storage
from index.storage.layout import TMP_PREFIX, IndexLayout
from index.storage.manifest import MILVUS_ONLY, Manifest
from index.storage.milvus.connect import connect, normalise_uri, retrying, talking
from index.storage.milvus.mirrors import mirror_before_switch, told
from index.storage.milvus.sources import DeltaSource
from index.storage.milvus.writer import MirrorReport, alive_versions, mirrored, pool_of
from index.storage.store import Store, StoredRecord


def write_direct(layout: IndexLayout, entries: list[Held | Record], current: Store | Storage | None,
                 old_manifest: Manifest | None, encoder: Encoder, spec: ModelSpec, english: ModelSpec | None,
                 uri: str, *, options: BuildOptions | None = None,
                 progress: Progress, make_encoder: EncoderFactory, wait: float = 0.0,
                 on_mirror: Callable[[MirrorReport], None] = lambda report: None) -> BuildReport:
    """Make current a new generation of `entries` (the merged records, in order) held only in
    Milvus at `uri`. `current`: the current generation's records (its local store, or its mirror),
    where those the pool lacks are read back from; `old_manifest` its manifest. Caller holds the
    writer lock."""
    from index.english import settings_for
    from index.fingerprint import build_fingerprint

    start = time.perf_counter()
    options = options or BuildOptions()
    uri = normalise_uri(uri)
    keys = [key_of(e) for e in entries]
    settings = {"index_type": options.index_type, **settings_for(english), "code": build_fingerprint(),
                "storage": MILVUS_ONLY}
    model_path = None if spec.name == DEFAULT_MODEL else spec.name
    draft = Manifest(model_id=encoder.model_id, model_path=model_path, dim=encoder.dim, records=len(keys),
                     docs=0, sentences=0, built_at="", settings=settings)
    live = retrying(lambda: _alive(layout, uri, draft), wait, told)
    new_rows = [r for r, key in enumerate(keys) if key not in live]
    records = _records(entries, new_rows, current)
    tagger = record_tagger()
    moved = {r: StoredRecord(r, e, tagger(e), keys[r][1], 0, 0, 0, 0) for r, e in enumerate(entries)
             if isinstance(e, Record) and keys[r] in live and live[keys[r]].source != e.source}  # read elsewhere now

    layout.generations.mkdir(parents=True, exist_ok=True)
    clean_stale(layout, options.keep_generations)  # what a killed run left, its scratch folder included
    scratch = IndexLayout(layout.generations / f"{TMP_PREFIX}milvus-new-{os.getpid()}")
    delta, built = None, None
    try:
        if records:
            built = index_records(scratch, records, encoder, spec, options, progress, cache_dir=layout.cache_dir,
                                  english=english, make_encoder=make_encoder)
            from index.storage.local import open_local

            delta = open_local(scratch.root)
        kept = [live[k] for k in keys if k in live]
        old_types = old_manifest.index_types if old_manifest is not None else {}
        manifest = Manifest(
            model_id=encoder.model_id, model_path=model_path, dim=encoder.dim, records=len(keys),
            docs=sum(v.counts[0] for v in kept) + (delta.manifest.docs if delta else 0),
            sentences=sum(v.counts[1] for v in kept) + (delta.manifest.sentences if delta else 0),
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            index_types=delta.manifest.index_types if delta else old_types, settings=settings)

        def before_switch(generation: Path) -> None:
            source = DeltaSource(generation, keys, new_rows, delta, moved)
            on_mirror(mirror_before_switch(layout.root, generation, uri, wait, source=source))

        final = write_bare_generation(layout, manifest, before_switch, options.keep_generations)
    finally:
        if delta is not None:
            delta.close()
        shutil.rmtree(scratch.root, ignore_errors=True)
    without_abstract = sum(not v.has_abstract for v in kept) + sum(not r.has_abstract() for r in records)
    return BuildReport(final, len(keys), manifest.docs, manifest.sentences,
                       built.embedded_chunks if built else 0, built.cached_chunks if built else 0,
                       time.perf_counter() - start, [], without_abstract)


def _alive(layout: IndexLayout, uri: str, draft: Manifest) -> dict:
    """The versions the pool of a generation like `draft` holds alive in the current generation's mirror."""
    client = connect(uri)
    try:
        with talking(uri, "reading the records Milvus holds"):
            pool = pool_of(layout.root, draft, "")
            base, _ = mirrored(client, layout.current_name(), pool)
            return alive_versions(client, pool, base)
    finally:
        client.close()


def _records(entries: list[Held | Record], rows: list[int], current: Store | Storage | None) -> list[Record]:
    """The records at `rows`: fresh ones as read, held ones read back from the current generation."""
    held = [entries[r].rowid for r in rows if isinstance(entries[r], Held)]
    got = current.get(held) if held else {}
    return [entries[r] if isinstance(entries[r], Record) else got[entries[r].rowid].record for r in rows]
