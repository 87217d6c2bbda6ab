"""`oncosearch index check`: is the current generation whole, ours, and self-consistent?

Checks, in order: CURRENT points at an existing generation; the manifest reads and has our
format; every file the manifest lists exists with the recorded size and SHA-256; the SQLite
store opens, passes `PRAGMA integrity_check` and has our tables; FAISS files load with the
manifest's dimension and vector counts; the store's vector ranges cover exactly those vectors;
the store was built with the manifest's model; ranges.npy (where written) equals the store's
ranges; the English passage leg (when built) matches the records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from index.errors import DamagedIndex
from index.storage import store as store_module
from index.storage.layout import IndexLayout
from index.storage.manifest import Manifest, sha256_file


def check_index(index_dir: Path) -> tuple[list[str], dict]:
    layout = IndexLayout(Path(index_dir))
    problems: list[str] = []
    generation = layout.current()
    if generation is None:
        return [f"no index at {layout.root} (no CURRENT file): build one with oncosearch index build"], {}
    if not generation.is_dir():
        return [f"{layout.current_file} points at generation {generation.name}, which does not exist"], {}
    try:
        manifest = Manifest.read(generation)
    except DamagedIndex as e:
        return [str(e)], {"generation": generation.name}
    info = {"generation": generation.name, "records": manifest.records, "sentences": manifest.sentences,
            "model_id": manifest.model_id}
    for name, meta in manifest.files.items():
        path = generation / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif path.stat().st_size != meta.get("size"):
            problems.append(f"{path}: size {path.stat().st_size} bytes, manifest says {meta.get('size')} (truncated "
                            "or replaced)")
        elif sha256_file(path) != meta.get("sha256"):
            problems.append(f"{path}: checksum differs from the manifest (file changed or damaged)")
    if manifest.lives_in_milvus():
        return problems, info  # no local files: `index check` checks its Milvus mirror (milvus.check)
    problems += _check_store(generation / "store.sqlite", manifest)
    problems += _check_ranges(generation)
    problems += _check_vectors(generation, manifest)
    return problems, info


def _check_store(path: Path, manifest: Manifest) -> list[str]:
    if not path.exists():
        return []  # already reported as missing
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":
                return [f"{path}: SQLite integrity check failed: {ok}"]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not {"records", "sentences", "docs", "meta"} <= tables:
                return [f"{path}: not an oncosearch store (tables: {', '.join(sorted(tables)) or 'none'})"]
            problems = []
            n, docs, sents = conn.execute(
                "SELECT count(*), coalesce(sum(doc_count),0), coalesce(sum(sent_count),0) FROM records").fetchone()
            if n != manifest.records:
                problems.append(f"{path}: {n} records, manifest says {manifest.records}")
            if docs != manifest.docs or sents != manifest.sentences:
                problems.append(f"{path}: ranges cover {docs} doc and {sents} sentence vectors, manifest says "
                                f"{manifest.docs} and {manifest.sentences}")
            row = conn.execute("SELECT value FROM meta WHERE key='model_id'").fetchone()
            if not row or row[0] != manifest.model_id:
                problems.append(f"{path}: built with model {row[0] if row else '?'}, manifest says {manifest.model_id}")
            return problems
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        return [f"{path}: not a readable SQLite database ({e})"]


def _check_ranges(generation: Path) -> list[str]:
    """ranges.npy (generations written since it exists) holds exactly the store's record ranges."""
    path = generation / store_module.RECORD_RANGES_FILE
    if not path.exists():
        return []
    try:
        ranges = np.load(path)
        store = store_module.Store(generation / "store.sqlite")
        try:
            expected = np.array(store.ranges(), dtype=np.int64).reshape(-1, 5)
        finally:
            store.close()
    except (OSError, ValueError, sqlite3.DatabaseError) as e:
        return [f"{path}: unreadable ({str(e)[:160]})"]
    if ranges.shape != expected.shape or not np.array_equal(ranges, expected):
        return [f"{path}: record ranges differ from the store's (shape {ranges.shape} vs {expected.shape})"]
    return []


def _check_vectors(generation: Path, manifest: Manifest) -> list[str]:
    from index.storage import vectors
    problems = []
    for name, expected in (("docs.faiss", manifest.docs), ("sents.faiss", manifest.sentences)):
        path = generation / name
        if not path.exists():
            continue
        try:
            index = vectors.read(path, mmap=False)
        except RuntimeError as e:
            msg = str(e).strip().splitlines()[-1][:160] if str(e).strip() else "unreadable"
            problems.append(f"{path}: FAISS cannot read it ({msg})")
            continue
        if index.d != manifest.dim:
            problems.append(f"{path}: dimension {index.d}, manifest says {manifest.dim}")
        if index.ntotal != expected:
            problems.append(f"{path}: {index.ntotal} vectors, manifest says {expected}")
    problems += _check_english(generation, manifest)
    return problems


def _check_english(generation: Path, manifest: Manifest) -> list[str]:
    """The English passage leg, when the manifest says the generation has one: files and ranges agree."""
    from index.english import EN_FILE, PASSAGE_RANGES_FILE, SETTING
    from index.storage.local import open_passages

    if not manifest.settings.get(SETTING):
        return []
    missing = [n for n in (EN_FILE, PASSAGE_RANGES_FILE) if n not in manifest.files]
    if missing:
        return [f"{generation}: manifest names an English leg but lists no {', '.join(missing)}"]
    try:
        open_passages(generation, manifest.records)
    except DamagedIndex as e:
        return [str(e)]
    return []
