#!/usr/bin/env python
"""Per-stage timings of warm queries on one index: where a query's milliseconds go.

    python bench/stages.py INDEX_DIR [--queries 100] [--mode hybrid] [--json OUT.json]

Times the engine's own objects, one after another, for the same real queries as `bench/run.py`
(PubMedQA questions in English and Chinese): reading the query (`Query.lexical`), then each
leg's `prepare` (the encoders, BM25), `candidates` and exact `scores` over the pooled candidates,
then `fuse`, then the whole `Searcher.search`. The stages run one after another here; the search
itself runs a background leg's `prepare` (MiniLM) beside the others (see `Searcher.evidence`).
Prints medians and 90th percentiles in ms; `--json` also writes them with the commit measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import git_state, load_queries  # noqa: E402
from search.engine import Searcher  # noqa: E402
from search.fusion import fuse  # noqa: E402


def stage_times(searcher: Searcher, texts: list[str], mode: str = "hybrid", k: int = 10) -> dict[str, list[float]]:
    """ms per stage per query, stages named '<leg> prepare', '<leg> candidates', '<leg> scores'."""
    times: dict[str, list[float]] = {}

    def timed(name: str, fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        times.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
        return out

    for text in texts:
        q = searcher.query(text)
        ranking = searcher.ranking_legs(mode, q)
        if "lexical" in ranking:
            timed("query analysis", lambda query: query.lexical, q)
        states = {name: timed(f"{name} prepare", leg.prepare, q, None)
                  for name, leg in searcher.legs.items() if name == "dense" or name in ranking}
        candidates: set[int] = set()
        for name in ranking:
            if states[name] is not None:
                candidates |= timed(f"{name} candidates", searcher.legs[name].candidates, states[name], k, None)
        results = {name: timed(f"{name} scores", searcher.legs[name].scores, state, candidates)
                   for name, state in states.items() if state is not None}
        if mode == "hybrid":
            lexical = results.get("lexical")
            timed("fuse", fuse, {n: r.scores for n, r in results.items()}, searcher.weights, q.lang,
                  lexical.coverage if lexical else 1.0)
        timed("whole search", searcher.search, text, k, None, mode)
    return times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", type=Path)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--mode", default="hybrid")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    searcher = Searcher(a.index, syntax=False)  # benchmark questions are plain text, as `oncosearch eval` reads them
    queries = load_queries(ROOT, a.shared, a.queries)
    for q in queries[:3]:  # models loaded, pages touched
        searcher.search(q, mode=a.mode)
    times = stage_times(searcher, queries, a.mode)
    rows = {name: {"median_ms": round(statistics.median(v), 2), "p90_ms": round(float(np.percentile(v, 90)), 2),
                   "n": len(v)} for name, v in times.items()}
    print(f"{a.index} ({searcher.storage.records:,} records), {len(queries)} queries, mode {a.mode}: median / p90 ms")
    for name, row in rows.items():
        print(f"  {name:22s} {row['median_ms']:7.1f} {row['p90_ms']:7.1f}")
    if a.json:
        a.json.write_text(json.dumps({"index": str(a.index), "records": searcher.storage.records, "mode": a.mode,
                                      "queries": len(queries), **git_state(ROOT), "stages": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
