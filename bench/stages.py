#!/usr/bin/env python
"""Per-stage timings of warm hybrid queries on one index: where a query's milliseconds go.

    python bench/stages.py INDEX_DIR [--queries 100]

Runs each stage of `Searcher.search` on its own, in order, for the same real queries as
`bench/run.py` (PubMedQA, LiveQA and WMT18 questions, English and Chinese), then the whole
search, and prints medians and 90th percentiles in ms. Stages run one after another here; the
search itself overlaps the MiniLM encode with USE's work (see `Searcher.search`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import load_queries  # noqa: E402
from search.engine import Searcher  # noqa: E402
from search.query import analyse  # noqa: E402

STAGES = ("analyse", "USE encode", "BM25", "USE candidates", "MiniLM encode", "English candidates",
          "exact USE scores", "exact English scores", "whole search")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", type=Path)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    a = ap.parse_args()
    s = Searcher(a.index)
    queries = load_queries(ROOT, a.shared, a.queries)
    for q in queries[:3]:  # models loaded, pages touched
        s.search(q)
    times: dict[str, list[float]] = {name: [] for name in STAGES}
    for q in queries:
        marks = [time.perf_counter()]
        lq = analyse(q)
        marks.append(time.perf_counter())
        qv = s.encoder.encode([q])[0]
        marks.append(time.perf_counter())
        s.lexical_leg(lq, None)
        marks.append(time.perf_counter())
        candidates = s.dense_candidates(qv, 10, None)
        marks.append(time.perf_counter())
        ev = s.english_query(q, lq)
        marks.append(time.perf_counter())
        if ev is not None:
            candidates |= s.english_candidates(ev, 10, None)
        marks.append(time.perf_counter())
        s.dense_exact(qv, candidates)
        marks.append(time.perf_counter())
        if ev is not None:
            s.english_exact(ev, candidates)
        marks.append(time.perf_counter())
        s.search(q)
        marks.append(time.perf_counter())
        for name, t0, t1 in zip(STAGES, marks[:-1], marks[1:], strict=True):
            times[name].append((t1 - t0) * 1000)
    print(f"{a.index} ({s.manifest.records:,} records), {len(queries)} queries: median / p90 ms")
    for name, values in times.items():
        print(f"  {name:22s} {statistics.median(values):7.1f} {np.percentile(values, 90):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
