"""Cheap whole-file verification of a generation before a search or show opens it.

`index check` hashes every file every time. A query cannot afford that on a large index, yet must
not read a damaged file (a truncated or overwritten FAISS file can crash FAISS itself; a damaged
store returns wrong text). So readers verify each file against the manifest's size and SHA-256
once, and remember the result keyed by the file's (size, mtime, ctime, inode, device) in the
user's cache directory. Any later write to the file — even one that restores the mtime — changes
its ctime, so the file is hashed again. Cost: one `stat` per file per query, plus one full read
per file per generation and user the first time (the writer records its freshly built
generation, so normally not even that).

What this cannot see: bit rot on the disk that bypasses the file system. `index check` finds it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from index.errors import DamagedIndex
from index.storage.atomic import atomic_write_text
from index.storage.manifest import Manifest, sha256_file


def memo_dir() -> Path:
    from index.storage.layout import cache_home

    return cache_home() / "verified"


def _memo_path(generation: Path) -> Path:
    key = hashlib.sha1(str(generation.resolve()).encode()).hexdigest()[:20]
    return memo_dir() / f"{key}.json"


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _load(generation: Path) -> dict:
    try:
        data = json.loads(_memo_path(generation).read_text())
        return data if isinstance(data, dict) and data.get("generation") == str(generation.resolve()) else {}
    except (OSError, ValueError):
        return {}


def _save(generation: Path, files: dict[str, list[int]]) -> None:
    path = _memo_path(generation)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps({"generation": str(generation.resolve()), "files": files}),
                          tmp_name=f"{path.name}.{os.getpid()}.tmp", durable=False)  # a memo: losing it costs a hash
    except OSError:
        pass  # a read-only cache only costs re-hashing next time


def verify_generation(generation: Path, manifest: Manifest) -> None:
    """Raise DamagedIndex naming the first file that is missing, resized or changed since the build."""
    memo = _load(generation).get("files", {})
    verified: dict[str, list[int]] = {}
    for name, meta in sorted(manifest.files.items()):
        path = generation / name
        try:
            st = path.stat()
        except FileNotFoundError:
            raise DamagedIndex(f"{path}: missing") from None
        if st.st_size != meta.get("size"):
            raise DamagedIndex(f"{path}: {st.st_size} bytes, the manifest says {meta.get('size')} (truncated or "
                               "replaced)") from None
        stamp = _stamp(st)
        if memo.get(name) != stamp and sha256_file(path) != meta.get("sha256"):
            raise DamagedIndex(f"{path}: contents differ from the manifest's checksum (damaged or changed)")
        verified[name] = stamp
    if verified != memo:
        _save(generation, verified)


def remember(generation: Path, manifest: Manifest) -> None:
    """Record a generation the caller has just written and hashed (the writer, after the switch)."""
    files = {}
    for name in manifest.files:
        try:
            files[name] = _stamp((generation / name).stat())
        except OSError:
            return
    _save(generation, files)
