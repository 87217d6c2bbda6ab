#!/usr/bin/env python
"""Query latency and recall@10 at scale (issue #16): exact search, the engine's local FAISS HNSW and
Milvus's HNSW, on the same real-shaped vectors, queried with real questions.

    python bench/milvus_scale.py --index ~/idx                      # 1M vectors, 200 queries, milvus-lite
    python bench/milvus_scale.py --index ~/idx --n 30000 --queries 50 --json /tmp/scale.json
    python bench/milvus_scale.py --index ~/idx --milvus-uri http://milvus.lab:19530   # a Milvus server

    用法示例（中文）：
    python bench/milvus_scale.py --index ~/idx                      # 100 万向量、200 条问题、milvus-lite
    python bench/milvus_scale.py --index ~/idx --n 30000 --queries 50   # 小规模试跑

Vectors: the USE sentence vectors of the index at --index. Where they are fewer than --n, each further
copy of them is the original plus Gaussian noise (--sigma per coordinate, seeded) re-normalised to
unit length; the output says how many are real, the sigma, and the mean cosine of a copy with its
original. Queries: PubMedQA(-zh) questions picked as bench/run.py's querying section picks them,
encoded one by one by the index's query encoder, as `Searcher` encodes a query.

Ground truth is FAISS IndexFlatIP top-10 (itself checked against a numpy brute force). Local HNSW is
`index.storage.vectors.build(..., "hnsw")` with the engine's efSearch; Milvus gets a collection of an
id and a FLOAT_VECTOR with `index.storage.milvus.schema.dense_index`, inserted in batches of
`BATCH_BYTES` as the mirror writer does, and is searched with the parameters `MilvusField.nearest`
sends. Builds use every core (as indexing does); every search is one query per call (as the engine
searches), the local ones on one thread. milvus-lite answers from its own server threads, which keep
FAISS's default thread count, but FAISS spreads a search over its queries, so one query is one thread
there too. Recall counts a returned vector as right when its exact cosine reaches the 10th best one (less
1e-5), so two identical vectors (one sentence in two records) are equally right.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import git_state, load_queries, loadavg, machine_info, pct, save_result  # noqa: E402  (stdlib only)

K = 10
TIE_EPS = 1e-5  # a hit whose exact cosine is within this of the 10th best counts as right
COLLECTION = "oncosearch_bench_scale"
DEFAULT_SIGMA = 0.02  # per coordinate: a 512-d copy has cosine ≈ 0.91 with its original


@dataclass
class Backend:
    """One backend's figures: build (or insert) and index time, query latency, recall@10."""

    build_s: float
    p50_ms: float
    p95_ms: float
    recall_at_10: float
    index_s: float = 0.0  # Milvus: creating the collection with its index + load (milvus-lite builds each
    # segment's HNSW on load)
    params: dict | None = None


# --------------------------------------------------------------------------------------------------
# vectors and queries


def real_vectors(index_dir: Path):
    """The index's sentence vectors (a float32 copy) and its manifest (for the query encoder).

    Read from the local generation even where the index reads a Milvus mirror: the local files are
    the source the mirror is written from, and opening milvus-lite here would hold its file."""
    import numpy as np

    from index.storage.base import SENTENCES
    from index.storage.local import open_local

    storage = open_local(index_dir)
    try:
        field = storage.field(SENTENCES)
        if field is None or field.size == 0:
            raise SystemExit(f"milvus_scale: {index_dir} holds no sentence vectors")
        return np.array(field.matrix, dtype=np.float32), storage.manifest
    finally:
        storage.close()


def replicate(real, n: int, sigma: float, seed: int, chunk: int = 65536):
    """`n` unit vectors: the real ones (a seeded sample of them if there are more than `n`), then
    noisy copies of them in order: original + N(0, sigma²) per coordinate, re-normalised.

    Returns (vectors, the mean cosine of a copy with its original, None when there are no copies)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    if len(real) >= n:
        return real[np.sort(rng.choice(len(real), n, replace=False))], None
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    out[:len(real)] = real
    cosines = []
    for start in range(len(real), n, chunk):
        stop = min(start + chunk, n)
        original = real[(np.arange(start, stop) % len(real))]
        copy = original + rng.standard_normal(original.shape, dtype=np.float32) * np.float32(sigma)
        copy /= np.linalg.norm(copy, axis=1, keepdims=True)
        out[start:stop] = copy
        cosines.append(np.einsum("ij,ij->i", copy, original))
    return out, float(np.concatenate(cosines).mean())


def encode_queries(manifest, texts: list[str]):
    """Each question encoded alone by the index's query encoder, as the dense leg encodes a query."""
    import numpy as np

    from index.models.encoders import query_encoder

    encoder = query_encoder(manifest.model_id, manifest.model_path)
    return np.stack([encoder.encode([t])[0] for t in texts]).astype(np.float32)


# --------------------------------------------------------------------------------------------------
# measuring


def recall(xb, xq, ids, kth):
    """Mean share of each query's returned ids whose exact cosine reaches its 10th best (ties count)."""
    import numpy as np

    hits = []
    for q in range(len(xq)):
        found = [i for i in ids[q] if i >= 0]
        scores = xb[found] @ xq[q] if found else np.zeros(0, np.float32)
        hits.append(min(K, int((scores >= kth[q] - TIE_EPS).sum())) / K)
    return float(np.mean(hits))


def brute_force_kth(xb, xq, block: int = 131072):
    """Each query's 10th best cosine by numpy, block by block (the check on IndexFlatIP)."""
    import numpy as np

    best = np.full((len(xq), K), -np.inf, dtype=np.float32)
    for start in range(0, len(xb), block):
        scores = xq @ xb[start:start + block].T
        best = -np.sort(-np.concatenate([best, scores], axis=1), axis=1)[:, :K]
    return best[:, K - 1]


def one_by_one(search, xq):
    """(latencies in s, ids (len(xq), K)): `search(q)` one query per call."""
    import numpy as np

    ids = np.full((len(xq), K), -1, dtype=np.int64)
    lat = []
    for q in range(len(xq)):
        t = time.perf_counter()
        found = search(xq[q])
        lat.append(time.perf_counter() - t)
        ids[q, :len(found)] = found[:K]
    return lat, ids


def figures(build_s: float, lat: list[float], score: float, **extra) -> Backend:
    return Backend(build_s=build_s, p50_ms=pct(lat, 50) * 1e3, p95_ms=pct(lat, 95) * 1e3, recall_at_10=score, **extra)


def run_exact(xb, xq):
    """IndexFlatIP: the ground truth (ids and 10th best scores), and its own figures."""
    import faiss

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    build_s = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    kth: list[float] = []

    def search(q):
        scores, ids = flat.search(q[None, :], K)
        kth.append(float(scores[0, K - 1]))
        return ids[0]

    lat, ids = one_by_one(search, xq)
    return lat, ids, build_s, kth


def run_local(xb, xq, kth, build_threads: int) -> Backend:
    """The engine's own HNSW (index.storage.vectors), searched with the efSearch a search uses."""
    import faiss

    from index.storage import vectors

    faiss.omp_set_num_threads(build_threads)
    t = time.perf_counter()
    index = vectors.build(xb, "hnsw")
    build_s = time.perf_counter() - t
    index.hnsw.efSearch = vectors.HNSW_EF_SEARCH
    faiss.omp_set_num_threads(1)
    lat, ids = one_by_one(lambda q: index.search(q[None, :], K)[1][0], xq)
    return figures(build_s, lat, recall(xb, xq, ids, kth), params={
        "M": vectors.HNSW_M, "efConstruction": vectors.HNSW_EF_CONSTRUCTION, "efSearch": vectors.HNSW_EF_SEARCH})


def run_milvus(xb, xq, kth, uri: str, log) -> Backend:
    """Milvus at `uri`: a collection of (id, vector), inserted in the mirror writer's batches, indexed
    with the mirror's HNSW parameters, loaded, then searched as MilvusField.nearest searches."""
    from pymilvus import DataType

    from index.storage.milvus import schema
    from index.storage.milvus.connect import connect, talking
    from index.storage.milvus.writer import BATCH_BYTES
    from index.storage.vectors import HNSW_EF_SEARCH

    client = connect(uri)
    try:
        with talking(uri, f"benchmarking {COLLECTION}"):
            if client.has_collection(COLLECTION):
                client.drop_collection(COLLECTION)
            s = client.create_schema(auto_id=False, enable_dynamic_field=False,
                                     description="oncosearch benchmark: vectors at scale")
            s.add_field("id", DataType.INT64, is_primary=True)
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=xb.shape[1])
            # the index is declared with the collection, as the mirror writer does: a separate
            # create_index on 1M vectors outlives milvus-lite's gRPC keepalive, and pymilvus's retry
            # then fails on the index the first call made ("index already exists")
            t = time.perf_counter()
            index_params = schema.dense_index(client, "hnsw")
            client.create_collection(COLLECTION, schema=s, index_params=index_params)
            client.release_collection(COLLECTION)  # loaded by create_collection; inserted into unloaded
            create_s = time.perf_counter() - t
            per_batch = max(1, BATCH_BYTES // (xb.shape[1] * 4 + 8))
            t = time.perf_counter()
            for start in range(0, len(xb), per_batch):
                client.insert(COLLECTION, [{"id": i, "vector": xb[i]}
                                           for i in range(start, min(start + per_batch, len(xb)))])
            client.flush(COLLECTION)
            insert_s = time.perf_counter() - t
            log(f"milvus: inserted {len(xb):,} in {insert_s:.1f} s; indexing (load)")
            t = time.perf_counter()
            client.load_collection(COLLECTION)
            index_s = time.perf_counter() - t + create_s
            params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, K)}}

            def search(q):
                hits = client.search(COLLECTION, data=[q], anns_field="vector", limit=K, search_params=params)[0]
                return [hit["id"] for hit in hits]

            search(xq[0])  # the first search after a load pays for opening the segments
            lat, ids = one_by_one(search, xq)
            client.drop_collection(COLLECTION)
    finally:
        client.close()
    return figures(insert_s, lat, recall(xb, xq, ids, kth), index_s=index_s, params={
        "index": [p.get_index_configs() for p in index_params], "search": params, "insert_batch": per_batch,
        "create_index_s": create_s})


# --------------------------------------------------------------------------------------------------
# report


def markdown(result: dict) -> str:
    v = result["vectors"]
    lines = [
        f"### Vector search at {v['n']:,} vectors: exact, local HNSW, Milvus ({result['milvus_uri_kind']})",
        "",
        f"{v['real']:,} real USE sentence vectors of `{v['index']}`"
        + (f", the rest noisy copies (sigma {v['sigma']} per coordinate, seed {v['seed']}; mean cosine of a copy "
           f"with its original {v['copy_cosine_mean']:.3f})" if v["copies"] else "")
        + f"; {result['queries']['n']} real questions ({result['queries']['chinese']} Chinese), encoded one by one "
          f"as a search encodes them. One query per call, one thread; local builds on {result['build_threads']} threads.",
        "",
        "| backend | build / insert s | index s | p50 ms | p95 ms | recall@10 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, b in result["backends"].items():
        lines.append(f"| {name} | {b['build_s']:.1f} | {b['index_s']:.1f} | {b['p50_ms']:.2f} | {b['p95_ms']:.2f} "
                     f"| {b['recall_at_10']:.4f} |")
    lines += ["", f"commit {result['commit']}{'' if result['clean'] else ' (uncommitted changes)'}, "
                  f"{result['machine'].get('cores')} cores, {result['seconds']:.0f} s in all."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="an index folder: its sentence vectors are the real ones")
    ap.add_argument("--n", type=int, default=1_000_000, help="vectors to search (default 1,000,000)")
    ap.add_argument("--queries", type=int, default=200, help="real questions to ask (default 200)")
    ap.add_argument("--sigma", type=float, default=DEFAULT_SIGMA, help="noise per coordinate of a copy")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--milvus-uri", default=None,
                    help="a Milvus server (http://host:19530); default a milvus-lite file in a temporary folder")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared data (PubMedQA)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results-milvus-scale.json")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    a = ap.parse_args(argv)
    if a.n < K or a.queries < 1 or a.sigma < 0:
        ap.error(f"--n must be at least {K}, --queries at least 1, --sigma not negative")

    import faiss

    from corpus.errors import OncosearchError
    from index.storage.milvus.connect import is_server

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    build_threads = faiss.omp_get_max_threads()
    result: dict = {"command": " ".join(["python", "bench/milvus_scale.py", *(argv or sys.argv[1:])]),
                    "date": datetime.now(UTC).isoformat(timespec="seconds"), **git_state(ROOT),
                    "machine": machine_info(), "load_start": loadavg(), "build_threads": build_threads}
    try:
        real, manifest = real_vectors(a.index)
        xb, copy_cosine = replicate(real, a.n, a.sigma, a.seed)
        n_real = min(len(real), a.n)
        del real
        result["vectors"] = {"index": str(a.index), "n": a.n, "dim": int(xb.shape[1]), "real": n_real,
                             "copies": a.n - n_real, "sigma": a.sigma, "seed": a.seed,
                             "copy_cosine_mean": copy_cosine}
        log(f"{a.n:,} vectors ({n_real:,} real, sigma {a.sigma})")
        texts = load_queries(ROOT, a.shared, a.queries)
        if not texts:
            raise SystemExit(f"milvus_scale: no questions found under {a.shared / 'bench' / 'pubmedqa'}")
        xq = encode_queries(manifest, texts)
        result["queries"] = {"n": len(texts), "chinese": sum(any("\u4e00" <= c <= "\u9fff" for c in t) for t in texts),
                             "model": manifest.model_id}
        log(f"{len(texts)} questions encoded; exact search")

        lat, truth, flat_s, kth = run_exact(xb, xq)
        checked = brute_force_kth(xb, xq)
        result["backends"] = {"exact (FAISS flat)": asdict(figures(flat_s, lat, recall(xb, xq, truth, checked)))}
        log(f"local HNSW: building on {build_threads} threads")
        result["backends"]["local HNSW (FAISS)"] = asdict(run_local(xb, xq, kth, build_threads))
        log("milvus")
        uri = a.milvus_uri
        with tempfile.TemporaryDirectory(prefix="oncosearch-milvus-scale-") as tmp:
            result["milvus_uri_kind"] = "server" if uri and is_server(uri) else "milvus-lite"
            uri = uri or str(Path(tmp) / "scale.db")
            result["backends"]["Milvus HNSW"] = asdict(run_milvus(xb, xq, kth, uri, log))
    except OncosearchError as e:
        raise SystemExit(f"milvus_scale: {e}") from None
    result["seconds"] = time.perf_counter() - started
    result["load_end"] = loadavg()
    save_result(result, a.json, markdown(result), a.out)


if __name__ == "__main__":
    main()
