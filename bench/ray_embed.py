#!/usr/bin/env python
"""Embedding throughput on Ray (`index build --ray`) against the local encoder, same texts.

    python bench/ray_embed.py                      # 2,000 USE chunks of the bundled sample
    python bench/ray_embed.py --texts 500 --leg english

Texts: a seeded random sample of the distinct texts a build of the bundled sample embeds (USE
chunks, or the English leg's MiniLM passages), longest first as the builder sends them. Modes,
each timed `--reps` times (median reported):
- local: the indexing encoder (`indexing_encoder`, torch threads = cores), model already loaded;
  its load time is reported apart (a build pays it once);
- ray-1, ray-2: `RayEncoder.encode` with 1 or 2 actors on a Ray started in this process with
  2 CPUs. Each call is one Ray Data run, as a build leg is: actors start and load the model, then
  embed. `startup_s` is the same call for one short text: actors started and models loaded, the
  part of each run that does not grow with the texts.
On a 2-core machine 1 and 2 actors measure Ray's overhead, not scale-out: there is nothing to
scale out to. The figures go to bench/out/results-ray-embed.json with the commit and the load.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import _build_texts, git_state, loadavg, machine_info  # noqa: E402

OUT = ROOT / "bench" / "out" / "results-ray-embed.json"


def sample_texts(leg: str, n: int, seed: int) -> tuple[list[str], object, int | None]:
    """`n` distinct texts of the sample's build for `leg`, longest first, with the leg's model and dim."""
    from index.english import EN_DIM, english_spec
    from index.models.encoders import ModelSpec
    from index.pipeline import sample_sources

    en_spec = english_spec() if leg == "english" else None
    _, chunks, passages = _build_texts([str(p) for p in sample_sources()], en_spec.name if en_spec else None)
    pool = sorted(set((passages if leg == "english" else chunks).values()))
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    spec, dim = (en_spec, EN_DIM) if leg == "english" else (ModelSpec.parse(None), None)
    return sorted(chosen, key=len, reverse=True), spec, dim


def time_local(texts: list[str], spec, dim, reps: int, batch_size: int) -> dict:
    from index.models.encoders import _threads, indexing_encoder

    t0 = time.perf_counter()
    encoder = indexing_encoder(spec, dim)
    encoder.encode(["warm-up: the model loads on the first call"])
    load = time.perf_counter() - t0
    runs, vectors = [], None
    for _ in range(reps):
        start = time.perf_counter()
        vectors = encoder.encode(texts, batch_size=batch_size)
        runs.append(time.perf_counter() - start)
    return {"threads": _threads(), "load_s": round(load, 2), "runs_s": [round(r, 2) for r in runs],
            "median_s": round(statistics.median(runs), 2), "per_s": round(len(texts) / statistics.median(runs), 1),
            "_vectors": vectors}


def time_ray(texts: list[str], spec, dim, reps: int, batch_size: int, address: str, workers: int) -> dict:
    import numpy as np

    from index.builder import embed_batch
    from index.models.ray_embed import RaySession

    session = RaySession(address, workers)
    runs, startups, vectors = [], [], None
    for _ in range(reps):
        start = time.perf_counter()
        session.encoder(spec, dim).encode(["start-up probe"] * workers, batch_size=batch_size)
        startups.append(time.perf_counter() - start)
        encoder = session.encoder(spec, dim)
        out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
        start = time.perf_counter()
        for positions, vecs in encoder.encode_stream(texts, embed_batch(), batch_size):
            out[positions] = vecs
        runs.append(time.perf_counter() - start)
        vectors = out
    return {"actors": workers, "threads_per_actor": 1, "runs_s": [round(r, 2) for r in runs],
            "median_s": round(statistics.median(runs), 2), "per_s": round(len(texts) / statistics.median(runs), 1),
            "startup_s": round(statistics.median(startups), 2), "_vectors": vectors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000, help="texts to embed (default 2000)")
    parser.add_argument("--leg", choices=("use", "english"), default="use", help="USE chunks or MiniLM passages")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per mode; the median is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import numpy as np
    import ray

    load_before = loadavg()
    texts, spec, dim = sample_texts(args.leg, args.texts, args.seed)
    batch_size = 32 if args.leg == "english" else 64  # as the builder embeds each leg
    local = time_local(texts, spec, dim, args.reps, batch_size)
    t0 = time.perf_counter()
    context = ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    ray_init = time.perf_counter() - t0
    try:
        modes = {"local": local}
        for workers in (1, 2):
            modes[f"ray-{workers}"] = time_ray(texts, spec, dim, args.reps, batch_size,
                                               context.address_info["address"], workers)
    finally:
        ray.shutdown()
    reference = modes["local"].pop("_vectors")
    for name in ("ray-1", "ray-2"):
        got = modes[name].pop("_vectors")
        modes[name]["min_cosine_vs_local"] = round(float(np.min((got * reference).sum(axis=1))), 6)
    result = {
        **git_state(ROOT), "command": "python bench/ray_embed.py " + " ".join(sys.argv[1:]),
        "machine": machine_info(), "loadavg_before": load_before, "loadavg_after": loadavg(),
        "leg": args.leg, "model_id": spec.model_id, "texts": len(texts),
        "chars_per_text": round(sum(map(len, texts)) / max(1, len(texts)), 1), "reps": args.reps,
        "ray_version": ray.__version__, "ray_init_s": round(ray_init, 2), "modes": modes,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
