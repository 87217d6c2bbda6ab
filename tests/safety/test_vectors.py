"""index/storage/vectors.py: type choice, memory-mapped flat files, HNSW read fallback, filtered search recall."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.storage import vectors


def test_choose_type():
    assert vectors.choose_type(0, 512) == "flat"
    per_512 = vectors.FLAT_MAX_BYTES // (512 * 4)
    assert vectors.choose_type(per_512 - 1, 512) == "flat"
    assert vectors.choose_type(per_512, 512) == "hnsw"
    # the threshold is the bytes a scan reads: as many 384-d vectors as 512-d ones stay flat longer
    assert vectors.choose_type(per_512, 384) == "flat"
    assert vectors.choose_type(-(-vectors.FLAT_MAX_BYTES // (384 * 4)), 384) == "hnsw"
    assert vectors.choose_type(10, 512, "hnsw") == "hnsw"
    assert vectors.choose_type(10**7, 512, "flat") == "flat"
    with pytest.raises(ValueError, match="index type"):
        vectors.choose_type(10, 512, "ivf")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((5000, 64)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    queries = rng.standard_normal((20, 64)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return base, queries


def test_flat_is_memory_mapped(tmp_path, data):
    base, queries = data
    path = tmp_path / "flat.faiss"
    vectors.write(vectors.build(base, "flat"), path)
    mapped = vectors.read(path)
    assert mapped.ntotal == 5000 and vectors.kind_of(mapped) == "flat"
    assert _maps(path), "the vectors were read into memory, not mapped"
    s1, i1 = vectors.search(mapped, queries[0], 10)
    s2, i2 = vectors.search(vectors.read(path, mmap=False), queries[0], 10)
    assert np.array_equal(i1, i2) and np.allclose(s1, s2)
    assert np.allclose(vectors.reconstruct_range(mapped, 100, 3), base[100:103])


def test_hnsw_reads_with_or_without_mmap(tmp_path, data):
    base, _ = data
    path = tmp_path / "hnsw.faiss"
    vectors.write(vectors.build(base, "hnsw"), path)
    index = vectors.read(path)
    assert vectors.kind_of(index) == "hnsw" and index.ntotal == 5000
    assert index.hnsw.efSearch == vectors.HNSW_EF_SEARCH
    assert _maps(path)  # its vector storage is mapped too
    assert np.allclose(vectors.matrix(index)[:3], base[:3])
    in_memory = vectors.read(path, mmap=False)
    assert np.array_equal(vectors.search(index, base[7], 10)[1], vectors.search(in_memory, base[7], 10)[1])


def _maps(path) -> bool:
    """Whether this process has `path` memory-mapped (Linux /proc/self/maps)."""
    return str(path) in Path("/proc/self/maps").read_text()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_filtered_search_recall(tmp_path, data, kind):
    base, queries = data
    path = tmp_path / f"{kind}.faiss"
    vectors.write(vectors.build(base, kind), path)
    index = vectors.read(path)
    allowed = np.arange(0, 5000, 7, dtype=np.int64)  # 1 in 7 allowed
    allowed_set = set(allowed.tolist())
    k, recalls = 10, []
    for q in queries:
        exact = allowed[np.argsort(-(base[allowed] @ q))[:k]]
        _, ids = vectors.search(index, q, k, allowed)
        assert set(ids.tolist()) <= allowed_set and len(ids) == k
        recalls.append(len(set(ids.tolist()) & set(exact.tolist())) / k)
    assert np.mean(recalls) >= (1.0 if kind == "flat" else 0.9), (kind, np.mean(recalls))
