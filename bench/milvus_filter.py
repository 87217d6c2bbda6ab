#!/usr/bin/env python
"""A filtered vector search on Milvus with a long allow-list (issue #16): the allow-list sent as the
search's own `serial in [...]` filter, against the epoch's nearest vectors oversampled and filtered
here (`MilvusField.nearest` above `PREFILTER_SERIALS` versions).

    python bench/milvus_filter.py                       # 200k records, 128-d, milvus-lite in a temp folder
    python bench/milvus_filter.py --records 50000 --json /tmp/filter.json

    用法示例（中文）：
    python bench/milvus_filter.py                       # 20 万条记录、128 维、临时 milvus-lite
    python bench/milvus_filter.py --records 50000       # 小规模试跑

One vector per record (a `docs` field), random unit vectors (seeded), in a collection made with the
mirror's own schema and FLAT index (`index.storage.milvus.schema`), read through `MilvusField` as a
mirrored generation reads it. For each share of records allowed (a random allow-list, as a filter
on year or language gives), the same queries are searched both ways, one query per call; the
report gives each way's median and the expression's size, and whether both ways returned the same
records (FLAT: both exact, so they must).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import git_state, loadavg, save_result  # noqa: E402
from index.storage.milvus import schema  # noqa: E402
from index.storage.milvus import storage as milvus_storage  # noqa: E402
from index.storage.milvus.filters import rowids_expression  # noqa: E402

SHARES = (0.5, 0.2, 0.1, 0.05, 0.02)
EPOCH = 1


def collection(client, records: int, dim: int, rng: np.random.Generator) -> str:
    """A pool-like `docs` collection of `records` unit vectors, all alive at `EPOCH`."""
    name = "oncosearch_bench_filter_docs"
    if client.has_collection(name):
        client.drop_collection(name)
    params = schema.dense_index(client, "flat")
    for field in schema.INDEXED_VECTOR_FIELDS:
        params.add_index(field, index_type="INVERTED")
    client.create_collection(name, schema=schema.vectors_schema(client, dim, False), index_params=params)
    for start in range(0, records, 10_000):
        block = rng.standard_normal((min(10_000, records - start), dim)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        client.insert(name, [{"id": (start + i) << schema.SERIAL_SHIFT, "serial": start + i, "offset": 0,
                              "gen_from": EPOCH, "gen_to": schema.ALIVE, "lang": "en", "vector": v.tolist()}
                             for i, v in enumerate(block)])
    client.flush(name)
    return name


def timed(field, qs: np.ndarray, k: int, allowed: np.ndarray) -> tuple[list[float], list[list[int]]]:
    times, found = [], []
    for qv in qs:
        t = time.perf_counter()
        found.append(field.nearest(qv, k, allowed).tolist())
        times.append(time.perf_counter() - t)
    return times, found


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("-k", type=int, default=100, help="neighbours per search (the engine asks a few hundred)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results-milvus-filter.json")
    args = ap.parse_args(argv)
    from pymilvus import MilvusClient

    rng = np.random.default_rng(0)
    result = {"command": "python bench/milvus_filter.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "git": git_state(ROOT), "load_start": loadavg(), "records": args.records, "dim": args.dim,
              "k": args.k, "queries": args.queries, "prefilter_serials": milvus_storage.PREFILTER_SERIALS,
              "oversample_share": milvus_storage.OVERSAMPLE_SHARE, "oversample": milvus_storage.OVERSAMPLE, "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        uri = str(Path(tmp) / "filter.db")
        client = MilvusClient(uri)
        t = time.perf_counter()
        name = collection(client, args.records, args.dim, rng)
        result["load_s"] = round(time.perf_counter() - t, 1)
        starts = np.arange(args.records, dtype=np.int64) << schema.SERIAL_SHIFT
        field = milvus_storage.MilvusField(client, uri, name, args.dim, starts, np.ones(args.records, dtype=np.int64),
                                           "flat", EPOCH)
        qs = rng.standard_normal((args.queries, args.dim)).astype(np.float32)
        qs /= np.linalg.norm(qs, axis=1, keepdims=True)
        field.nearest(qs[0], args.k)  # load the collection before timing
        for share in SHARES:
            allowed = np.sort(rng.choice(args.records, int(args.records * share), replace=False))
            chars = len(rowids_expression(allowed, "serial"))
            kept = milvus_storage.PREFILTER_SERIALS, milvus_storage.OVERSAMPLE_SHARE
            default_way = "oversampled" if len(allowed) > max(kept[0], kept[1] * args.records) else "list sent"
            try:
                milvus_storage.PREFILTER_SERIALS, milvus_storage.OVERSAMPLE_SHARE = 0, 0.0  # every list oversampled
                oversampled, got = timed(field, qs, args.k, allowed)
                milvus_storage.PREFILTER_SERIALS = args.records + 1  # every list sent as the filter
                listed, expected = timed(field, qs, args.k, allowed)
            finally:
                milvus_storage.PREFILTER_SERIALS, milvus_storage.OVERSAMPLE_SHARE = kept
            row = {"share": share, "allowed": len(allowed), "expression_chars": chars, "default_way": default_way,
                   "list_sent_median_ms": round(statistics.median(listed) * 1000, 1),
                   "oversampled_median_ms": round(statistics.median(oversampled) * 1000, 1),
                   "same_records": all(Counter(a) == Counter(b) for a, b in zip(got, expected, strict=True))}
            row["ratio"] = round(row["list_sent_median_ms"] / row["oversampled_median_ms"], 2)
            result["rows"].append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
        client.close()
    result["load_end"] = loadavg()
    lines = ["| share allowed | versions | expression | list sent, median | oversampled, median | ratio | same records "
             "| `nearest` takes |", "|---:|---:|---:|---:|---:|---:|---|---|"]
    lines += [f"| {r['share']} | {r['allowed']:,} | {r['expression_chars'] / 1000:.0f} KB | {r['list_sent_median_ms']} ms "
              f"| {r['oversampled_median_ms']} ms | {r['ratio']} | {'yes' if r['same_records'] else 'NO'} "
              f"| {r['default_way']} |" for r in result["rows"]]
    save_result(result, args.json, "\n".join(lines) + "\n", None)
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
