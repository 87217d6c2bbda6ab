"""Typed errors of the index: what is wrong with an index, a model or a writer, and where.

Messages state facts (the path, what was found, what was expected); the faces add what to do
about it (e.g. the CLI's "run oncosearch index check"), so the same error reads right in a
terminal and in an HTTP response.
"""

from __future__ import annotations

from pathlib import Path

from corpus.errors import OncosearchError


class NoIndex(OncosearchError):
    """Nothing has been built at this index location yet."""

    def __init__(self, root: Path):
        self.root = Path(root)
        super().__init__(f"no index at {self.root} yet")


class DamagedIndex(OncosearchError):
    """A generation is missing a file, or a file disagrees with the manifest or with the others."""


class ModelError(OncosearchError):
    """A model cannot be loaded, or is not the one an index was built with."""


class ModelMismatch(ModelError):
    """A query asked for another model than the one that embedded the index."""

    def __init__(self, index_model: str, asked: str):
        self.index_model, self.asked = index_model, asked
        super().__init__(f"this index was built with {index_model}; you asked for {asked}. "
                         "Vectors of different models are not comparable")


class WriterBusy(OncosearchError):
    """Another writer holds the index (try again later)."""


class NothingToIndex(OncosearchError):
    """A build or update would leave the index without a single record: nothing is written."""


class RayUnavailable(ModelError):
    """`--ray`: Ray is not installed, the cluster cannot be reached, or its workers failed to embed."""


class MilvusUnavailable(OncosearchError):
    """Milvus at a URI cannot be reached, or lacks what an index needs there (a collection, a generation)."""

    def __init__(self, uri: str, problem: str, transient: bool = True):
        # transient: worth retrying (no answer, a restart, a milvus-lite file another process holds);
        # not: pymilvus missing, a folder that does not exist, a generation never mirrored
        self.uri, self.problem, self.transient = uri, problem, transient
        super().__init__(f"Milvus at {uri}: {problem}")
