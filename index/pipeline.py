"""The writing operations behind `index build` and `index update`, free of any CLI concern.

build:  read SOURCES, merge, index exactly those records as a new generation.
update: start from the current generation's records, add new ones, replace changed ones,
        keep the rest; with prune, drop records whose source file was read again and no
        longer holds them, or whose source file is gone (the rule is in `_merge_update`).
        Unchanged text is never re-embedded (the embedding cache), and the model is not even
        loaded when nothing needs embedding, so an update over unchanged sources costs reading
        and writing only.

Source paths are made absolute before reading, so a record's ``source`` names the same file
whatever directory cron or a person runs the command from (prune depends on it).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from corpus.ingest import IngestResult, ingest
from corpus.record import Record
from index.builder import (
    BuildOptions,
    BuildReport,
    EncoderFactory,
    Progress,
    content_hash,
    no_progress,
    write_generation,
)
from index.errors import DamagedIndex, NothingToIndex
from index.models.encoders import DEFAULT_MODEL, Encoder, ModelSpec, indexing_encoder
from index.storage.crashpoints import crash_point
from index.storage.layout import IndexLayout
from index.storage.lock import WriterLock
from index.storage.manifest import Manifest
from index.storage.store import Store


def sample_sources() -> list[Path]:
    """The bundled sample corpus: PubMed oncology records (English), the bilingual seed review, and
    CSL's Chinese medical abstracts on cancer and immunity, so a Chinese query finds Chinese papers
    too (corpus/sample/PROVENANCE.md says where each comes from)."""
    folder = Path(str(resources.files("corpus") / "sample"))
    return [folder / "pubmed21n1298-oncology.xml.gz", folder / "immune-cell-therapy-review.zh-en.txt",
            folder / "csl-medicine-oncology.zh.jsonl"]


@dataclass
class UpdateCounts:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass
class WriteResult:
    ingest: IngestResult
    build: BuildReport | None
    counts: UpdateCounts
    seconds: float
    mirror: object | None = None  # the Milvus mirror written before the switch (a MirrorReport), if any
    milvus_only: bool = False  # the records were written into Milvus alone (no local files)

    def summary(self) -> dict:
        s = self.ingest.summary()
        c = self.counts
        return {
            "files": s["files"], "records": s["records"], "merged": s["merged"],
            "records_without_abstract": s["records_without_abstract"],
            "added": c.added, "updated": c.updated, "removed": c.removed, "unchanged": c.unchanged,
            "skipped": s["skipped"],
            "embedded_chunks": self.build.embedded_chunks if self.build else 0,
            "index_records": self.build.records if self.build else 0,
            "index_records_without_abstract": self.build.without_abstract if self.build else 0,
            "generation": self.build.generation.name if self.build else None,
            "seconds": round(self.seconds, 2),
            **({"milvus": self.mirror.to_dict(), "milvus_only": self.milvus_only} if self.mirror is not None else {}),
        }


def record_tagger() -> Callable[[Record], dict]:
    """Therapy and cancer-type tags of a record, from the bilingual glossary (read from what its
    document vectors embed: a title-only record's keywords count too)."""
    from index.chunking import doc_text
    from index.lexical.glossary import Glossary

    glossary = Glossary.load()
    return lambda rec: glossary.tags({lang: doc_text(rec, lang) for lang in rec.langs})


def index_records(layout: IndexLayout, records: list[Record], encoder: Encoder, spec: ModelSpec,
                  options: BuildOptions | None = None, progress: Progress = no_progress,
                  cache_dir: Path | None = None, english: ModelSpec | None = None,
                  make_encoder: EncoderFactory = indexing_encoder,
                  before_switch: Callable[[Path], None] | None = None) -> BuildReport:
    """Write a complete generation of `records`: vectors, store, BM25, glossary tags and, with
    `english` (the MiniLM model), the English passage leg (its encoder made by `make_encoder`).

    The one place that says what an index holds, for `index build`/`update` and for `eval`.
    """
    from index.english import english_writer, settings_for
    from index.fingerprint import build_fingerprint
    from index.lexical.bm25 import write_lexical

    writers = [write_lexical]
    if english is not None:
        index_type = options.index_type if options else "auto"
        writers.append(english_writer(english, cache_dir or layout.cache_dir, progress, index_type, make_encoder))
    return write_generation(
        layout, records, encoder, None if spec.name == DEFAULT_MODEL else spec.name, options,
        tagger=record_tagger(), extra_writers=writers, progress=progress, cache_dir=cache_dir,
        # "code": which code shaped its vectors, so a Milvus pool reuses vectors only from the same code
        settings={**settings_for(english), "code": build_fingerprint()}, before_switch=before_switch,
    )


def english_choice(english: bool | None, old: Manifest | None) -> ModelSpec | None:
    """The English leg's model for a write, or None for no leg.

    `english` None keeps the current index's choice on update, and is the default
    (`index.english.DEFAULT_ON`) for a new index. An index built with another English model
    directory keeps using it while that directory exists.
    """
    from index.english import DEFAULT_ON, SETTING, english_spec

    if english is None:
        english = bool(old.settings.get(SETTING)) if old is not None else DEFAULT_ON
    if not english:
        return None
    path = old.settings.get(SETTING) if old is not None else None
    return english_spec(path if path and Path(path).is_dir() else None)


@dataclass(frozen=True)
class Held:
    """A record of the current generation known by its key alone: an update that keeps its records
    in Milvus merges fresh records into these, and never reads the text of unchanged ones."""

    id: str
    content_hash: str
    source: str
    rowid: int  # in the current generation


def held_records(current) -> list[Held]:
    """Every record of the current generation (a Store or a Storage), by key, in its order."""
    return [Held(rid, chash, source, row) for row, (rid, chash, source) in enumerate(current.record_keys())]


def key_of(entry: Held | Record) -> tuple[str, str]:
    """(id, content hash): what a record version is."""
    return (entry.id, entry.content_hash if isinstance(entry, Held) else content_hash(entry))


def _merge_update(old: list[Record] | list[Held], new: list[Record], read_files: set[str], prune: bool
                  ) -> tuple[list[Record | Held], UpdateCounts]:
    """Merge freshly read records into the current ones, by record id.

    - id read now, same content (everything but ``source``): unchanged (source path refreshed);
    - id read now, different content: updated (the fresh record replaces the old one);
    - id read now, not in the index: added (after the kept records, in reading order);
    - id in the index, not read now: kept, except with `prune`, where it is removed when
      (a) its source file was read successfully in this run and no longer holds it, or
      (b) its source file no longer exists.
      A file that was given but failed to read, or gave nothing but skipped records (a broken
      export), removes nothing; an empty file removes all its records; a record from a file that
      was simply not named in this run (and still exists) is kept. Caution: (b) also applies to
      files on a disk that is not mounted at the time.
    Each id occurs once in the result: nothing is lost, nothing doubled.
    """
    counts = UpdateCounts()
    by_id = {r.id: r for r in new}
    out: list[Record] = []
    for rec in old:
        fresh = by_id.pop(rec.id, None)
        if fresh is not None:
            if content_hash(fresh) == key_of(rec)[1]:
                counts.unchanged += 1
                out.append(rec if rec.source == fresh.source else fresh)
            else:
                counts.updated += 1
                out.append(fresh)
        elif prune and (rec.source in read_files or not os.path.exists(rec.source)):
            counts.removed += 1
        else:
            out.append(rec)
    for rec in new:
        if rec.id in by_id:
            counts.added += 1
            out.append(rec)
    return out, counts


def write_index(
    index_dir: Path, sources: list[str | Path], *, update: bool = False, prune: bool = False,
    model: str | None = None, fmt: str | None = None, strict: bool = False, index_type: str = "auto",
    wait: float = 0.0, progress: Progress = no_progress, on_file=None, english: bool | None = None,
    ray: str | None = None, ray_workers: int | None = None, backend: str | None = None,
    milvus_uri: str | None = None, milvus_only: bool | None = None,
) -> WriteResult:
    """Read sources and write a new generation under the writer lock (raises LockBusy when held).

    `ray` (a cluster address or ``auto``): embed on that Ray cluster with `ray_workers` actors
    (default: one per CPU), index/models/ray_embed.py; the vectors and the cache are the same.

    `backend` "milvus" (with `milvus_uri`, or the URI the index remembers): the new generation is
    mirrored into Milvus before it becomes current, and the index reads Milvus from then on;
    "local": the index reads its local files again; None: as the index does now (an index that
    reads Milvus keeps its mirror current). `wait` also bounds retries of a Milvus that does not
    answer. See index/storage/milvus/mirrors.py.

    `milvus_only` True (with a Milvus backend): no local files; the new generation's records are
    written into Milvus alone, only what changed (index/storage/milvus/direct.py); False: local
    files again; None: as the index does now.
    """
    start = time.perf_counter()
    layout = IndexLayout(Path(index_dir))
    sources = [os.path.abspath(s) for s in sources]
    if ray:
        from index.models.ray_embed import ray_encoders

        session = ray_encoders(ray, ray_workers)
    else:
        session = nullcontext(None)
    with WriterLock(layout.lock_file, wait=wait), session as cluster:
        make_encoder = cluster.encoder if cluster is not None else indexing_encoder
        crash_point("lock")
        uri = milvus_target(layout.root, backend, milvus_uri)
        only = only_in_milvus(layout.root, uri, milvus_only)
        mirrored: list = []
        before_switch = None
        if uri is not None and not only:
            from index.storage.milvus.mirrors import mirror_before_switch

            def before_switch(generation: Path) -> None:
                mirrored.append(mirror_before_switch(layout.root, generation, uri, wait))
        current = layout.current()
        if update and current is not None and not current.is_dir():
            raise DamagedIndex(f"{layout.current_file} points at generation {current.name}, which does not exist")
        old_manifest = Manifest.read(current) if update and current else None
        spec = ModelSpec.parse(model if model else (old_manifest.model_path if old_manifest else None))
        en_spec = english_choice(english, old_manifest)  # before reading: a missing model fails fast
        result = ingest(sources, fmt=fmt, strict=strict, on_file=on_file)
        with _current_records(layout, current if old_manifest is not None else None) as reader:
            if reader is not None:
                if only:
                    old = held_records(reader)  # by key: the text of unchanged records is never read
                else:
                    old = [s.record for s in reader.iter_records()]
                # read = opened and parsed; a file whose every record was skipped (a broken export) counts as unread
                read_files = {f.file for f in result.files if not f.failed and (f.records or not f.skipped)}
                records, counts = _merge_update(old, result.records, read_files, prune)
            else:
                records, counts = result.records, UpdateCounts(added=len(result.records))
            if not records:
                read = len([f for f in result.files if not f.failed])
                raise NothingToIndex(f"no record with a title or an abstract in {len(result.files)} file(s) read "
                                     f"({read} opened): nothing was written{', the index is as it was' if current else ''}")
            same_model = old_manifest is not None and old_manifest.model_id == spec.model_id
            encoder = make_encoder(spec, old_manifest.dim if same_model else None)
            options = BuildOptions(index_type=index_type)
            if only:
                from index.storage.milvus.direct import write_direct

                report = write_direct(layout, records, reader, old_manifest, encoder, spec, en_spec, uri,
                                      options=options, progress=progress, make_encoder=make_encoder, wait=wait,
                                      on_mirror=mirrored.append)
            else:
                report = index_records(layout, records, encoder, spec, options, progress, english=en_spec,
                                       make_encoder=make_encoder, before_switch=before_switch)
        _settle_backend(layout.root, backend, uri, only)
    return WriteResult(result, report, counts, time.perf_counter() - start, mirrored[0] if mirrored else None, only)


BACKENDS = ("local", "milvus")


def milvus_target(root: Path, backend: str | None, milvus_uri: str | None) -> str | None:
    """The Milvus URI a write mirrors into, or None (local files only)."""
    if backend not in (None, *BACKENDS):
        raise ValueError(f"backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "local":
        if milvus_uri:
            raise ValueError("a Milvus URI names where the milvus backend writes: not with the local backend")
        return None
    from index.storage.milvus.remember import BACKEND_FILE, remembered

    if (Path(root) / BACKEND_FILE).exists() or backend == "milvus" or milvus_uri:
        uri = milvus_uri or remembered(root)
        if uri is None:
            raise ValueError("the milvus backend needs a Milvus URI (a milvus-lite file or http://host:19530)")
        return uri
    return None


def only_in_milvus(root: Path, uri: str | None, milvus_only: bool | None) -> bool:
    """Whether a write keeps its records in Milvus alone: as asked, else as the index remembers."""
    if uri is None:
        if milvus_only:
            raise ValueError("--milvus-only keeps the records in Milvus: name one with --backend milvus --milvus-uri")
        return False
    if milvus_only is not None:
        return milvus_only
    from index.storage.milvus.remember import milvus_only as remembered_only

    return remembered_only(root)


@contextmanager
def _current_records(layout: IndexLayout, current: Path | None):
    """The current generation's records, for an update to merge into: its local store, or, for a
    generation that lives only in Milvus, its mirror; None without one."""
    if current is None:
        yield None
        return
    path = current / "store.sqlite"
    if not path.exists() and (current / "manifest.json").exists() and Manifest.read(current).lives_in_milvus():
        from index.storage.milvus.remember import open_remembered, remembered

        uri = remembered(layout.root)
        if uri is None:
            raise DamagedIndex(f"{current}: its records live only in Milvus, and {layout.root} no longer names "
                               "the Milvus (milvus.json is gone): build the index again")
        reader = open_remembered(layout.root, uri)
    else:
        try:
            reader = Store(path)
        except sqlite3.DatabaseError as e:
            raise DamagedIndex(f"{path}: cannot read the current records ({e})") from None
    try:
        yield reader
    except sqlite3.DatabaseError as e:
        raise DamagedIndex(f"{path}: cannot read the current records ({e})") from None
    finally:
        reader.close()


def _settle_backend(root: Path, backend: str | None, uri: str | None, only: bool = False) -> None:
    """After the switch: remember the backend chosen, and drop the Milvus mirrors no longer read."""
    from index.storage.milvus.remember import forget, remember, touches_milvus

    if uri is None and not touches_milvus(root):
        return  # a local index that never had a mirror: nothing to do (and pymilvus may not be installed)
    from index.storage.milvus.mirrors import prune

    if uri is not None:
        remember(root, uri, only)
    elif backend == "local":
        forget(root)
    prune(root)
