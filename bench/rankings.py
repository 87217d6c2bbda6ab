#!/usr/bin/env python
"""Dump every evaluation query's ranked ids (and scores) per set and mode, for an exact before/after diff.

    python bench/rankings.py dump OUT.json [--sets ...] [--modes ...]
    python bench/rankings.py diff A.json B.json [--json SUMMARY.json]

Runs through the same code as `oncosearch eval` (its evaluation indexes, `Searcher.search`), so a
change to the query path can show that no ranking moved: `diff` counts, per set and mode, the
queries whose top-k ids differ and the largest score change, and exits 1 if any ranking moved.
Run `dump` from each tree with that tree first on PYTHONPATH (e.g. a `git worktree` of the old
commit), then `diff` the two files. The dump records the commit and whether the tree was clean.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETS = {
    "pubmedqa": ("bench/pubmedqa", None, False),
    "pubmedqa-plus": ("bench/pubmedqa", None, True),
    "pubmedqa-zh": ("bench/pubmedqa", "PUBMEDQA_ZH", False),
    "liveqa-dev": ("bench/liveqa-dev", None, False),
    "wmt18": ("bench/wmt18-biomed-zh-en", None, False),
}
MODES = ("hybrid", "dense", "lexical", "english")


def _path(built) -> Path:
    """eval_index's answer: the index directory (with whether it was built, in newer code)."""
    return built[0] if isinstance(built, tuple) else built


def dump(out: Path, sets: list[str], modes: list[str], shared: Path, k: int) -> None:
    import search.evaluate as ev
    from corpus.ingest import ingest
    from corpus.readers import read_file
    sys.path.insert(0, str(ROOT))
    from bench.run import git_state, plain_searcher

    code = Path(ev.__file__).resolve().parents[1]
    result: dict = {"code": str(code), **git_state(code), "k": k, "sets": {}}
    for name in sets:
        folder, queries_file, plus = SETS[name]
        folder = shared / folder
        qf = ROOT / "bench/pubmedqa-zh/queries.jsonl" if queries_file else None
        extra = ingest([ROOT / "corpus/sample/pubmed21n1298-oncology.xml.gz"]).records if plus else []
        jobs = []  # (label, index_dir, queries)
        if name == "wmt18":
            for direction in ("zh->en", "en->zh"):
                records, queries = [], {}
                for zh, en in ev.find_parallel(folder):
                    r, q, _ = ev.parallel_as_beir(zh, en, direction)
                    records += r
                    queries.update(q)
                idx = _path(ev.eval_index(records, None, f"{folder.name}-{direction.replace('->', '2')}"))
                jobs.append((f"wmt18 {direction}", idx, queries))
        else:
            bench = ev.load_beir(folder, qf)
            corpus = read_file(bench.corpus, "jsonl")
            idx = _path(ev.eval_index(corpus.records + extra, None, folder.name + ("-plus" if extra else "")))
            jobs.append((name, idx, bench.queries))
        for label, idx, queries in jobs:
            searcher = plain_searcher(idx)  # questions as plain text, as `oncosearch eval` reads them
            for mode in modes:
                t0 = time.perf_counter()
                ranked = {}
                for qid, text in queries.items():
                    hits = searcher.search(text, k=k, mode=mode, snippets=False)
                    ranked[qid] = [[h.record.id, round(float(h.score), 6)] for h in hits]
                result["sets"][f"{label} / {mode}"] = ranked
                print(f"{label} / {mode}: {len(queries)} queries, {time.perf_counter() - t0:.1f}s", flush=True)
        out.write_text(json.dumps(result, ensure_ascii=False))


def diff(a: Path, b: Path, out: Path | None = None) -> int:
    A, B = json.loads(a.read_text()), json.loads(b.read_text())
    bad = 0
    rows = {}
    for key in sorted(A["sets"].keys() | B["sets"].keys()):
        ra, rb = A["sets"].get(key), B["sets"].get(key)
        if ra is None or rb is None:
            print(f"{key}: only in {'B' if ra is None else 'A'}")
            bad += 1
            continue
        moved, worst = 0, 0.0
        for qid in ra.keys() | rb.keys():
            ia, ib = [d for d, _ in ra.get(qid, [])], [d for d, _ in rb.get(qid, [])]
            if ia != ib:
                moved += 1
            for (_, sa), (_, sb) in zip(ra.get(qid, []), rb.get(qid, []), strict=False):
                worst = max(worst, abs(sa - sb))
        print(f"{key:32s} queries {len(ra):4d}  rankings changed {moved:3d}  max |score change| {worst:.2e}")
        rows[key] = {"queries": len(ra), "rankings_changed": moved, "max_score_change": worst}
        bad += moved
    if out is not None:
        sides = {name: {k: d.get(k) for k in ("code", "commit", "clean", "k")} for name, d in (("a", A), ("b", B))}
        out.write_text(json.dumps({"a": sides["a"], "b": sides["b"], "sets": rows,
                                   "rankings_compared": sum(r["queries"] for r in rows.values()),
                                   "rankings_changed": bad}, indent=1))
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--sets", default=",".join(SETS))
    d.add_argument("--modes", default=",".join(MODES))
    d.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    d.add_argument("-k", type=int, default=10)
    f = sub.add_parser("diff")
    f.add_argument("a", type=Path)
    f.add_argument("b", type=Path)
    f.add_argument("--json", type=Path, help="also write the summary here")
    a = ap.parse_args()
    if a.cmd == "dump":
        dump(a.out, a.sets.split(","), a.modes.split(","), a.shared, a.k)
        return 0
    return diff(a.a, a.b, a.json)


if __name__ == "__main__":
    sys.exit(main())
