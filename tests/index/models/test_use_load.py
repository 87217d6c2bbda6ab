"""Query-path loading of USE: the model cache (same vectors, memory-mapped table) and one BLAS thread."""

from __future__ import annotations

import numpy as np
import pytest

from tests.index.models.test_models import TEXTS


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ONCOSEARCH_NO_MODEL_CACHE", raising=False)
    return tmp_path


def test_model_cache_gives_identical_vectors(cache_home):
    from index.models import use_numpy
    resources = use_numpy.package_resources()
    first = use_numpy.numpy_backend(resources, 1)  # the package's loader; writes the cache entry
    folder = use_numpy._cache_folder(resources)
    assert folder is not None and str(folder).startswith(str(cache_home)) and (folder / "complete").exists()
    second = use_numpy.numpy_backend(resources, 1)  # restored from the entry
    assert isinstance(second.table, np.memmap) and not second.table.flags.writeable
    assert np.array_equal(first.encode(TEXTS), second.encode(TEXTS))
    # the query path: the tokenizer's prefixes looked up in the entry's table, same vectors
    from index.storage.disk_table import DiskTable

    third = use_numpy.numpy_backend(resources, 1, disk_vocabulary=True)
    assert isinstance(third.sp._prefixes, DiskTable) and isinstance(second.sp._prefixes, dict)
    assert np.array_equal(first.encode(TEXTS), third.encode(TEXTS))


def test_damaged_model_cache_is_rebuilt(cache_home):
    from index.models import use_numpy
    resources = use_numpy.package_resources()
    reference = use_numpy.numpy_backend(resources, 1).encode(TEXTS)
    folder = use_numpy._cache_folder(resources)
    (folder / "tokenizer.pickle").write_bytes(b"not a pickle")
    again = use_numpy.numpy_backend(resources, 1)  # falls back to the package's loader, rewrites the entry
    assert np.array_equal(again.encode(TEXTS), reference)
    assert (folder / "complete").exists() and (folder / "tokenizer.pickle").read_bytes() != b"not a pickle"


def test_model_cache_can_be_turned_off(cache_home, monkeypatch):
    from index.models import use_numpy
    monkeypatch.setenv("ONCOSEARCH_NO_MODEL_CACHE", "1")
    assert use_numpy._cache_folder(use_numpy.package_resources()) is None
    use_numpy.numpy_backend(use_numpy.package_resources(), 1)
    assert not (cache_home / "oncosearch").exists()


def test_query_encoder_defaults_to_one_blas_thread(cache_home, monkeypatch):
    from index.models.encoders import UseNumpyEncoder

    monkeypatch.delenv("ONCOSEARCH_QUERY_THREADS", raising=False)
    one = UseNumpyEncoder()
    assert one.threads == 1 and one._backend.threads == 1
    monkeypatch.setenv("ONCOSEARCH_QUERY_THREADS", "2")
    two = UseNumpyEncoder()
    assert two.threads == 2 and UseNumpyEncoder(threads=3).threads == 3
    assert np.allclose(one.encode(TEXTS), two.encode(TEXTS), atol=1e-6)
