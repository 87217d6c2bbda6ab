"""Embedding on a Ray cluster with Ray Data: the `index build/update --ray ADDRESS|auto` path.

One machine embeds a few hundred chunks a second; a corpus of millions wants more machines. With
``--ray`` the texts the embedding cache does not hold (USE chunks, then the English leg's MiniLM
passages) become one Ray Data dataset per leg, mapped by a pool of actors (`map_batches`), each
actor loading the very encoder the local path uses (`SentenceTransformerEncoder`, normalised the
same way) once. This process loads no model at all.

Vectors come back batch by batch with their positions, in whatever order the actors finish, and
the builder puts each batch into the embedding cache as it arrives (`RayEncoder.encode_stream`,
used by `index.builder.embed_chunks`): a build killed halfway keeps what was paid for, and a
later local update finds the same cache rows (same model id, same vectors).

The cluster's nodes need oncosearch installed with the same models (``pip install
'oncosearch[cluster]'``); a model directory (``--model``, the MiniLM of the English leg) must be
at the same path there, and an actor refuses a model whose identity (`ModelSpec.model_id`) is not
the one this build records. Ray is imported here only, and only when ``--ray`` is given: the
default install has no Ray.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from index.errors import ModelError, RayUnavailable
from index.models.encoders import DEFAULT_MODEL, ModelSpec, UseNumpyEncoder

INSTALL_HINT = "pip install 'oncosearch[cluster]'"
CONNECT_TIMEOUT_S = 5.0  # Ray itself retries an address where nothing listens for minutes
CPUS_PER_WORKER = 1  # each actor: one CPU reserved, one torch thread
BATCHES_PER_WORKER = 4  # at least this many batches per actor, so a fast actor takes more of them
_RAY_LOGGERS = ("ray", "ray.data", "ray.train", "ray.tune")


def _import_ray():
    # Ray's C++ core logs to stderr (a line a second while a connect retries, a line per actor pool):
    # a cron job would mail them all. Its errors reach us as exceptions. Read when Ray is first
    # imported; RAY_BACKEND_LOG_LEVEL set by the user wins.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    try:
        import ray
        import ray.data
    except ImportError:
        raise RayUnavailable(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__


def host_port(address: str) -> tuple[str, int] | None:
    """``HOST:PORT`` or ``ray://HOST:PORT`` → (host, port); None for ``auto``; RayUnavailable otherwise."""
    if address == "auto":
        return None
    host, sep, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise RayUnavailable(f"--ray {address}: not an address; give the head node's HOST:PORT (e.g. 10.0.0.5:6379), "
                             "ray://HOST:10001, or auto (the cluster this machine belongs to)")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast when nothing listens at the address; ``auto`` is Ray's to find."""
    target = host_port(address)
    if target is None:
        return
    try:
        socket.create_connection(target, timeout=timeout).close()
    except OSError as e:
        raise RayUnavailable(f"no Ray cluster answers at {address} ({e.strerror or e}): start one with "
                             "`ray start --head` or give the head node's address") from None


def _connect_hint(address: str) -> str:
    """What to try after a failed connect. A head started where a Ray token exists (~/.ray/auth_token)
    requires it, and Ray sends it to an explicit address only when RAY_AUTH_MODE=token says so."""
    if address != "auto" and not os.environ.get("RAY_AUTH_MODE"):
        return ("is it running? A cluster with token authentication also needs RAY_AUTH_MODE=token and its "
                "token in ~/.ray/auth_token or RAY_AUTH_TOKEN")
    return "start one with `ray start --head`, or give the head node's HOST:PORT"


class RaySession:
    """One connection to a Ray cluster, shared by a build's encoders: made at the first text to
    embed (an update whose every chunk is cached never connects), closed by `close` when made here."""

    def __init__(self, address: str, workers: int | None = None):
        if workers is not None and workers < 1:
            raise RayUnavailable(f"--ray-workers {workers}: give 1 or more")
        if importlib.util.find_spec("ray") is None:  # say so before reading any source
            raise RayUnavailable(f"--ray needs Ray, which is not installed: {INSTALL_HINT}")
        host_port(address)  # a malformed address, too
        self.address = address
        self.workers = workers
        self._ray = None
        self._owned = False

    def connect(self):
        """The `ray` module, connected to `address` (an in-process Ray already started is reused)."""
        if self._ray is not None:
            return self._ray
        ray = _import_ray()
        if ray.is_initialized():
            current = ray.get_runtime_context().gcs_address
            if self.address not in ("auto", current) and self.address.split("://", 1)[-1] != current:
                raise RayUnavailable(f"this process is already connected to the Ray cluster at {current}, "
                                     f"not {self.address}")
        else:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, logging_level=logging.ERROR, log_to_driver=False)
            except Exception as e:  # ConnectionError, RuntimeError, version mismatch...: one line
                raise RayUnavailable(f"cannot connect to the Ray cluster at {self.address}: {_first_line(e)} "
                                     f"({_connect_hint(self.address)})") from e
            self._owned = True
        for name in _RAY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the CLI draws its own
        self._ray = ray
        return ray

    def worker_count(self) -> int:
        """`workers`, else one actor per CPU of the cluster (2 when Ray reports none)."""
        if self.workers:
            return self.workers
        cpus = self.connect().cluster_resources().get("CPU", 0)
        return max(1, int(cpus // CPUS_PER_WORKER)) if cpus else 2

    def encoder(self, spec: ModelSpec, dim: int | None = None) -> RayEncoder:
        """An `index.models.encoders.EncoderFactory`: the Ray counterpart of `indexing_encoder`."""
        return RayEncoder(spec, self, dim)

    def close(self) -> None:
        if self._ray is not None and self._owned:
            self._ray.shutdown()
        self._ray, self._owned = None, False


@contextmanager
def ray_encoders(address: str, workers: int | None = None) -> Iterator[RaySession]:
    """A session whose `encoder` makes Ray encoders, disconnected on leaving (`index.pipeline.write_index`)."""
    session = RaySession(address, workers)
    try:
        yield session
    finally:
        session.close()


class EmbedActor:
    """A Ray Data actor: loads the model once (one torch thread), then encodes every batch it gets."""

    def __init__(self, name: str, model_id: str, batch_size: int, threads: int = CPUS_PER_WORKER):
        from index.models.encoders import SentenceTransformerEncoder

        spec = ModelSpec.parse(name)
        if spec.model_id != model_id:
            raise ModelError(f"model {name} on {socket.gethostname()} is {spec.model_id}; the build uses {model_id}")
        self.encoder = SentenceTransformerEncoder(spec, threads)
        self.batch_size = batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.encoder.encode([str(t) for t in batch["text"]], batch_size=self.batch_size)
        return {"i": batch["i"], "vec": vectors}


class RayEncoder:
    """The `Encoder` protocol on a Ray cluster: same model id, same vectors as `LazyEncoder`."""

    def __init__(self, spec: ModelSpec, session: RaySession, dim: int | None = None):
        self.spec = spec
        self.session = session
        self.model_id = spec.model_id
        self._dim = UseNumpyEncoder.dim if spec.name == DEFAULT_MODEL else dim

    @property
    def dim(self) -> int:
        if self._dim is None:  # another model, no index to say: ask an actor
            stream = self.encode_stream(["dimension probe"], 1, 1)
            try:
                self._dim = int(next(stream)[1].shape[1])
            finally:
                stream.close()
        return self._dim

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for positions, vectors in self.encode_stream(list(texts), len(texts), batch_size):
            out[positions] = vectors
        return out

    def encode_stream(self, texts: list[str], step: int, batch_size: int = 64
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(positions in `texts`, their vectors) per batch of at most `step` texts, as actors finish them.

        One dataset for all `texts`, so each actor loads its model once however many batches it runs.
        """
        if not texts:
            return
        ray = self.session.connect()
        workers = self.session.worker_count()
        rows = max(1, min(step, math.ceil(len(texts) / (BATCHES_PER_WORKER * workers))))
        items = [{"i": i, "text": t} for i, t in enumerate(texts)]
        dataset = ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / rows)).map_batches(
            EmbedActor, batch_size=rows, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=CPUS_PER_WORKER,
            fn_constructor_kwargs={"name": self.spec.name, "model_id": self.model_id, "batch_size": batch_size},
        )
        try:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                vectors = np.ascontiguousarray(batch["vec"], dtype=np.float32)
                if self._dim is not None and vectors.shape[1] != self._dim:
                    raise ModelError(f"model {self.spec.name} gives {vectors.shape[1]}-d vectors, expected {self._dim}")
                yield np.asarray(batch["i"], dtype=np.int64), vectors
        except ModelError:
            raise
        except Exception as e:  # an actor that died or failed to load its model: one line, cause kept for --debug
            raise RayUnavailable(f"embedding on the Ray cluster at {self.session.address} failed: "
                                 f"{_first_line(e)}") from e
