"""Tune the fusion weights on the shared DEV sets only, and print the grid.

    python bench/tune.py                 (builds the eval indexes first where `oncosearch eval` has not)
    python bench/tune.py pubmedqa liveqa (some sets only)

dense_weight:   share of the normalised dense (USE) score in the USE + BM25 fusion (rest: BM25)
confidence:     per-query shift of dense_weight toward the more decisive of those two legs
coverage_power: the lexical weight is scaled by (vocabulary coverage of the query) ** this
english_weight: share of the normalised English (MiniLM passage) leg in the three-leg fusion (0: off);
                the chosen value is set apart for English and for Chinese queries (search.fusion.THREE_LEGS)
lead_weight:    share of the lead passage's cosine in the English score (rest: best passage)
doc_weight (whole-abstract vs best-sentence cosine) stays at its tuned value (search.legs.dense.DOC_WEIGHT).

Per query, candidates and per-leg scores are computed once by the engine's own `Searcher.evidence`;
every grid point then only recombines them with `fuse`, so the grid costs seconds. For the
Chinese set, the English leg is scored both fed the query's glossary + CC-CEDICT keywords and
skipped ("zh-skip"). One setting is chosen for all sets, never per query. Held-out splits are
never read here.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from corpus.readers import read_file  # noqa: E402
from search.engine import Searcher  # noqa: E402
from search.evaluate import eval_index, find_parallel, load_beir, metrics, parallel_as_beir  # noqa: E402
from search.fusion import FusionWeights, fuse  # noqa: E402

SHARED = ROOT.parent / "shared" / "bench"
SETS = {
    "pubmedqa": (SHARED / "pubmedqa", None, []),
    "pubmedqa+onco": (SHARED / "pubmedqa", None, [ROOT / "corpus/sample/pubmed21n1298-oncology.xml.gz"]),
    "pubmedqa-zh": (SHARED / "pubmedqa", ROOT / "bench/pubmedqa-zh/queries.jsonl", []),
    "liveqa": (SHARED / "liveqa-dev", None, []),
}
DENSE_WEIGHTS = (0.3, 0.4, 0.5, 0.6, 0.7)
CONFIDENCES = (0.0, 0.5, 1.0)
COVERAGE_POWERS = (1.0, 2.0, 4.0)
ENGLISH_WEIGHTS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
LEAD_WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)


def dev_sets(chosen: list[str]):
    """(name, records, queries, qrels, eval index name) of every chosen dev set, as `oncosearch eval` builds them."""
    from corpus.ingest import ingest

    for name, (folder, qfile, add) in SETS.items():
        if name not in chosen:
            continue
        bench = load_beir(folder, qfile)
        records = read_file(bench.corpus, "jsonl").records + (ingest(add).records if add else [])
        yield name, records, bench.queries, bench.qrels, folder.name + ("-plus" if add else "")
    wmt = SHARED / "wmt18-biomed-zh-en"
    for direction in ("zh->en", "en->zh"):
        if f"wmt18 {direction}" not in chosen:
            continue
        records, queries, qrels = [], {}, {}
        for zh, en in find_parallel(wmt):
            r, q, rel = parallel_as_beir(zh, en, direction)
            records += r
            queries.update(q)
            qrels.update(rel)
        yield f"wmt18 {direction}", records, queries, qrels, f"{wmt.name}-{direction.replace('->', '2')}"


def top(scores: dict, ids: dict) -> list[str]:
    return [ids[r] for r, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:100]]


def english_scores(views: dict, lead_weight: float) -> dict:
    """The English leg's scores at another lead share, from its (lead passage, best passage) views."""
    return {r: lead_weight * lead + (1 - lead_weight) * best for r, (lead, best) in views.items()}


def grid_for(per_query: dict, ids: dict, qrels: dict) -> dict:
    """Metrics of every grid point, from each query's `Evidence` (legs run once, only fusion varies)."""
    grid = {}

    def english(ev, lw: float) -> dict:
        return english_scores(ev.results["english"].views if "english" in ev.results else {}, lw)

    def row(m: dict) -> dict:
        return {"mrr": round(m["mrr@10"], 4), "ndcg": round(m["ndcg@10"], 4), "r1": round(m["recall@1"], 4)}

    singles = {
        "dense": lambda ev: ev.results["dense"].scores,
        "lexical": lambda ev: {r: ev.results["lexical"].scores[r] for r in ev.proposed.get("lexical", ())},
        **{f"english lead={lw}": (lambda ev, lw=lw: english(ev, lw)) for lw in LEAD_WEIGHTS},
    }
    for name, pick in singles.items():
        grid[f"single {name}"] = row(metrics({qid: top(pick(ev), ids) for qid, ev in per_query.items()}, qrels))
    for lw in LEAD_WEIGHTS:
        en = {qid: english(ev, lw) for qid, ev in per_query.items()}
        for dw, cf, cp, ew in itertools.product(DENSE_WEIGHTS, CONFIDENCES, COVERAGE_POWERS, ENGLISH_WEIGHTS):
            if ew == 0 and lw != LEAD_WEIGHTS[0]:
                continue  # the English leg is off: lead weight changes nothing
            weights = FusionWeights(dense_weight=dw, confidence=cf, coverage_power=cp, english_weight=ew,
                                    english_weight_zh=ew, lead_weight=lw)
            ranked = {qid: top(fuse({**ev.scores(), "english": en[qid]}, weights, ev.query.lang,
                                    ev.results["lexical"].coverage), ids)
                      for qid, ev in per_query.items()}
            grid[f"dense={dw} conf={cf} cov={cp} lead={lw} english={ew}"] = row(metrics(ranked, qrels))
    return grid


def main() -> None:
    chosen = sys.argv[1:] or [*SETS, "wmt18 zh->en", "wmt18 en->zh"]
    report = {}
    for name, records, queries, qrels, index_name in dev_sets(chosen):
        searcher = Searcher(eval_index(records, None, index_name)[0], syntax=False)  # questions as plain text
        ids = {s.rowid: s.record.id for s in searcher.storage.iter_records()}
        per_query = {qid: searcher.evidence(searcher.query(text), 10, None, "hybrid") for qid, text in queries.items()}
        report[name] = grid_for(per_query, ids, qrels)
        if name == "pubmedqa-zh":  # the same questions with the English leg skipped for Chinese queries
            for ev in per_query.values():
                ev.results.pop("english", None)
            report[name + " zh-skip"] = grid_for(per_query, ids, qrels)
        best = max((kv for kv in report[name].items() if not kv[0].startswith("single")), key=lambda kv: kv[1]["mrr"])
        print(name, "best hybrid MRR@10:", best, flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    names = "-".join(c.replace("->", "2").replace(" ", "_") for c in chosen)
    target = out / ("tune.json" if not sys.argv[1:] else f"tune-{names}.json")
    target.write_text(json.dumps(report, indent=1))
    print(f"grid written to {target}")


if __name__ == "__main__":
    main()
