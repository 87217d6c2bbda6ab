"""FAISS indexes over L2-normalised vectors (inner product = cosine).

Flat (exact) while a scan reads under `FLAT_MAX_BYTES` of vectors; HNSW above. A flat search
streams the whole matrix through memory once per query (bench/out/results-faiss-real.json: 88 ms
p50 for the 301k sentence vectors of a 50k-abstract index, against 0.99 ms for HNSW); HNSW reads
a few thousand rows instead. The threshold is in bytes, not vectors, because the cost is: 32k
USE vectors (512-d) and 44k MiniLM ones (384-d) take the same time to scan.

Flat files are memory-mapped on open, so a cold query does not read the whole matrix.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FLAT_MAX_BYTES = 64 * 2**20  # 32k USE or 44k MiniLM vectors
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
INDEX_TYPES = ("auto", "flat", "hnsw")


def choose_type(n: int, dim: int, requested: str = "auto") -> str:
    """The index type for `n` float32 vectors of `dim`: `requested`, or for "auto" by the bytes a flat scan reads."""
    if requested not in INDEX_TYPES:
        raise ValueError(f"index type {requested!r}: choose one of {', '.join(INDEX_TYPES)}")
    if requested != "auto":
        return requested
    return "hnsw" if n * dim * 4 >= FLAT_MAX_BYTES else "flat"


def build(vectors: np.ndarray, kind: str) -> faiss.Index:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        raise ValueError(f"unknown index type {kind!r}")
    if len(vectors):
        index.add(vectors)
    return index


def write(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def read(path: Path, mmap: bool = True) -> faiss.Index:
    """The index at `path`; with `mmap`, its vectors memory-mapped (flat codes, HNSW storage).

    IO_FLAG_MMAP_IFC, not IO_FLAG_MMAP: in FAISS 1.15 the latter still reads a flat index's
    vectors into memory (412 MB for the sentence index of 20k abstracts), so a cold search paid
    for reading every vector before its first answer, and HNSW, which touches a few thousand rows
    a query, paid the same.
    """
    flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
    try:
        index = faiss.read_index(str(path), flags)
    except RuntimeError:
        index = faiss.read_index(str(path))  # types FAISS cannot map are read into memory
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def kind_of(index: faiss.Index) -> str:
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def search(index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, ids) for one query; `allowed` restricts the ids searched (filters before ranking)."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, ids = index.search(q, k)
    else:
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k)) \
            if isinstance(index, faiss.IndexHNSW) else faiss.SearchParameters(sel=selector)
        scores, ids = index.search(q, k, params=params)
    keep = ids[0] >= 0
    return scores[0][keep], ids[0][keep]


def matrix(index: faiss.Index) -> np.ndarray:
    """Zero-copy (n, d) view of the stored vectors of a flat or HNSW-flat index (memory-mapped or not).

    Lets the engine score candidates with one gather and one matrix product instead of a
    reconstruct call per record. The view lives as long as `index` does.
    """
    flat = faiss.downcast_index(index.storage) if isinstance(index, faiss.IndexHNSW) else index
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)


def reconstruct_range(index: faiss.Index, start: int, count: int) -> np.ndarray:
    if count == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(start, count)
