"""The Milvus backend of the storage seam (``pip install 'oncosearch[cluster]'``).

A URI names where: a file path runs milvus-lite embedded, ``http://host:19530`` a Milvus server;
the same pymilvus code talks to both (`connect`). `writer.mirror_generation` writes a generation
into the index's pool (`schema`): a finished local generation, or, with ``--milvus-only``, the
records the pool lacks (`direct.write_direct`, read through `sources`); `storage.open_milvus` opens
it as a `Storage` that the query path uses unchanged. docs/milvus.md says why it is built this way.
"""

from __future__ import annotations

from index.storage.milvus.storage import MilvusGeneration, open_milvus
from index.storage.milvus.writer import MirrorReport, mirror_generation

__all__ = ["MilvusGeneration", "MirrorReport", "mirror_generation", "open_milvus"]
