"""Tune the two fusion weights on the shared DEV sets only, and print the grid.

    python bench/tune.py            (after `oncosearch eval` has built the eval indexes)

doc_weight:   share of the whole-abstract cosine in the dense score (rest: best sentence)
dense_weight: share of the normalised dense score in hybrid fusion (rest: normalised BM25)

Per query, candidates and per-leg scores are computed once; every grid point then only
recombines them, so the grid costs seconds. Held-out splits are never read here.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.readers import read_file  # noqa: E402
from search.engine import LEXICAL_CANDIDATES, Searcher, fuse  # noqa: E402
from search.evaluate import eval_index, find_parallel, load_beir, metrics, parallel_as_beir  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"
SETS = {
    "pubmedqa": (SHARED / "pubmedqa", None, []),
    "pubmedqa+onco": (SHARED / "pubmedqa", None, [ROOT / "corpus/sample/pubmed21n1298-oncology.xml.gz"]),
    "pubmedqa-zh": (SHARED / "pubmedqa", ROOT / "bench/pubmedqa-zh/queries.jsonl", []),
    "liveqa": (SHARED / "liveqa-dev", None, []),
}
DOC_WEIGHTS = (0.4, 0.5, 0.6, 0.7, 0.8)
DENSE_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
CONFIDENCES = (0.0, 0.5, 1.0)
COVERAGE_POWERS = (0.0, 1.0, 2.0)


def legs_for(searcher: Searcher, query: str) -> tuple[dict, float]:
    qv = searcher.encoder.encode([query])[0]
    lex, coverage = searcher.lexical_leg(query, None)
    n = min(len(lex), LEXICAL_CANDIDATES)
    lex_top = [int(i) for i in np.argpartition(-lex, n - 1)[:n] if lex[i] > 0]
    cands = searcher.dense_candidates(qv, 10, None) | set(lex_top)
    exact = searcher.dense_exact(qv, cands)
    return {rid: (exact[rid][1], exact[rid][2], float(lex[rid])) for rid in cands}, coverage


def dev_sets():
    """(name, records, queries, qrels, eval index name) of every dev set, as `oncosearch eval` builds them."""
    from corpus.ingest import ingest

    for name, (folder, qfile, add) in SETS.items():
        bench = load_beir(folder, qfile)
        records = read_file(bench.corpus, "jsonl").records + (ingest(add).records if add else [])
        yield name, records, bench.queries, bench.qrels, folder.name + ("-plus" if add else "")
    wmt = SHARED / "wmt18-biomed-zh-en"
    for direction in ("zh->en", "en->zh"):
        records, queries, qrels = [], {}, {}
        for zh, en in find_parallel(wmt):
            r, q, rel = parallel_as_beir(zh, en, direction)
            records += r
            queries.update(q)
            qrels.update(rel)
        yield f"wmt18 {direction}", records, queries, qrels, f"{wmt.name}-{direction.replace('->', '2')}"


def main() -> None:
    report = {}
    for name, records, queries, qrels, index_name in dev_sets():
        searcher = Searcher(eval_index(records, None, index_name))
        ids = {s.rowid: s.record.id for s in searcher.store.iter_all()}
        per_query = {qid: legs_for(searcher, text) for qid, text in queries.items()}
        grid = {}
        for dw, hw, cf, cp in itertools.product(DOC_WEIGHTS, DENSE_WEIGHTS, CONFIDENCES, COVERAGE_POWERS):
            ranked_h, ranked_d = {}, {}
            for qid, (legs, coverage) in per_query.items():
                dense = {rid: dw * d + (1 - dw) * s for rid, (d, s, _) in legs.items()}
                lexical = {rid: lx for rid, (_, _, lx) in legs.items()}
                fused = fuse(dense, lexical, hw, cf, coverage ** cp)
                ranked_h[qid] = [ids[r] for r, _ in sorted(fused.items(), key=lambda kv: -kv[1])[:100]]
                ranked_d[qid] = [ids[r] for r, _ in sorted(dense.items(), key=lambda kv: -kv[1])[:100]]
            mh, md = metrics(ranked_h, qrels), metrics(ranked_d, qrels)
            grid[f"doc={dw} dense={hw} conf={cf} cov={cp}"] = {
                "hybrid_mrr": round(mh["mrr@10"], 4), "hybrid_ndcg": round(mh["ndcg@10"], 4),
                "dense_mrr": round(md["mrr@10"], 4), "dense_ndcg": round(md["ndcg@10"], 4),
            }
        report[name] = grid
        best = max(grid.items(), key=lambda kv: kv[1]["hybrid_ndcg"])
        print(name, "best hybrid nDCG@10:", best, flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune.json").write_text(json.dumps(report, indent=1))
    print(f"grid written to {out / 'tune.json'}")


if __name__ == "__main__":
    main()
