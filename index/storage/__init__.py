"""Storage: where a built index lives and how the query path reads it (see `base` for the seam).

`open_generation(root)` is the one way in for every reader (the CLI, evaluation, benchmarks, a
server): it finds the current generation, verifies it, and opens it.
"""

from __future__ import annotations

from pathlib import Path

from index.storage.base import Filters, SentenceText, Storage, VectorField

__all__ = ["Filters", "SentenceText", "Storage", "VectorField", "open_generation"]


def open_generation(root: Path, verify: bool = True) -> Storage:
    """The current state of the index at `root`, verified first unless `verify` is False.

    Raises index.errors.NoIndex when nothing was built there, DamagedIndex when a file is
    missing or differs from the manifest.
    """
    if (Path(root) / "milvus.json").exists():  # the index reads a Milvus mirror (index.storage.milvus.remember)
        from index.storage.milvus.remember import open_remembered, remembered

        return open_remembered(Path(root), remembered(Path(root)))
    from index.storage.local import open_local

    return open_local(Path(root), verify=verify)
