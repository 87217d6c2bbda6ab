"""Two fusion levers measured on the tune and held-back halves of every dev set (issue #13).

    python bench/levers.py --evidence-cache DIR      (same sets, split and cache as bench/tune_split.py)

1. The English leg as a re-scorer only: it still scores the pooled candidates but proposes none of
   its own, so the pool is USE's and BM25's proposals. Computed from the legs' recorded proposals
   (`Reading.proposed`), for Chinese queries only and for all queries, under the shipped weights.
2. Query-shape trust for BM25: a short query (`search.query.is_short`, a rule fixed before any figure was read)
   moves the USE share of the USE + BM25 step toward BM25 by `shift`, chosen on the tune halves only
   by bench/tune_split.py's criterion (worst-case, then mean, hybrid ÷ best single leg), ties to the
   smaller shift.

Both use `search.fusion.fuse` on the recorded leg scores, without its short-query setting (the
"shipped" column is the fusion before lever 2 shipped as `FusionWeights.short_dense_weight`).
Output: a table on stdout and bench/out/results-levers.json (with the commit it ran at).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import tune  # noqa: E402
import tune_split as ts  # noqa: E402
from run import git_state  # noqa: E402

from search.fusion import THREE_LEGS, FusionWeights, fuse  # noqa: E402
from search.query import SHORT_RULE, is_short  # noqa: E402

SHIFTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # taken off THREE_LEGS.dense_weight (0.5) for short queries
VARIANTS = ("shipped", "no English proposals (zh)", "no English proposals (all)")


def hybrid(r: ts.Reading, rels: dict, metric: str, weights: FusionWeights, english_proposes: bool) -> float:
    """The headline metric of `fuse` over the pool; without the English leg's proposals the pool is
    the other legs' proposals, every leg (English included) scoring just those."""
    if r.proposed is None:
        raise SystemExit("this evidence cache predates the legs' proposals: use a fresh --evidence-cache folder")
    pool = set(r.dense) if english_proposes else set().union(*(v for k, v in r.proposed.items() if k != "english"))
    views = {x: v for x, v in r.views.items() if x in pool}
    scores = {"dense": {x: s for x, s in r.dense.items() if x in pool},
              "lexical": {x: s for x, s in r.lexical.items() if x in pool}}
    if views:
        scores["english"] = tune.english_scores(views, weights.lead_weight)
    return ts.value(r, fuse(scores, weights, r.lang, r.coverage), rels, metric)


def singles(r: ts.Reading, rels: dict, metric: str) -> dict[str, float]:
    """Each leg alone, as bench/tune_split.py's `grid` reads them (MiniLM at every lead share)."""
    out = {"dense": ts.value(r, r.dense, rels, metric),
           "lexical": ts.value(r, {x: r.lexical[x] for x in r.lexical_proposed}, rels, metric)}
    for lw in tune.LEAD_WEIGHTS:
        out[f"english lead={lw}"] = ts.value(r, r.english(lw), rels, metric) if r.views else 0.0
    return out


def measure(readings: dict, queries: dict, qrels: dict, metric: str) -> dict:
    """Per query: the three pool variants, every shift, each single leg; with language, half, shape."""
    rows = {}
    for qid, r in readings.items():
        rels, short = qrels[qid], is_short(queries[qid], r.lang)
        row = {"lang": r.lang, "half": ts.half(qid), "short": short, "singles": singles(r, rels, metric),
               "shipped": hybrid(r, rels, metric, THREE_LEGS, True),
               "no English proposals (all)": hybrid(r, rels, metric, THREE_LEGS, False)}
        row["no English proposals (zh)"] = row["no English proposals (all)"] if r.lang == "zh" else row["shipped"]
        for s in SHIFTS:
            w = replace(THREE_LEGS, dense_weight=max(0.0, THREE_LEGS.dense_weight - s))
            row[f"shift {s}"] = hybrid(r, rels, metric, w, True) if short and s else row["shipped"]
        rows[qid] = row
    return rows


def mean(rows: dict, part: str, key: str) -> float:
    return float(np.mean([r[key] for r in rows.values() if r["half"] == part]))


def best_single(rows: dict, part: str) -> tuple[str, float]:
    legs = next(iter(rows.values()))["singles"]
    return max(((leg, float(np.mean([r["singles"][leg] for r in rows.values() if r["half"] == part])))
                for leg in legs), key=lambda kv: kv[1])


def choose_shift(per_set: dict) -> tuple[float, dict[float, tuple]]:
    """tune_split's criterion on the tune halves: highest worst-case ratio, then mean, then smaller
    shift. Returns the shift and each shift's (worst, mean) ratio over the tune halves."""
    def key(s):
        ratios = [mean(rows, "tune", f"shift {s}") / best_single(rows, "tune")[1] for rows in per_set.values()]
        return round(min(ratios), 3), round(float(np.mean(ratios)), 3), -s
    keys = {s: key(s) for s in SHIFTS}
    return max(SHIFTS, key=keys.get), {s: k[:2] for s, k in keys.items()}


def report(per_set: dict, columns) -> dict:
    """Per set and half: each column's hybrid mean and its ratio to the best single leg; the Chinese ÷
    English twins of PubMedQA. `columns`: the keys of the per-query rows to report."""
    out = {}
    for name, rows in per_set.items():
        out[name] = {}
        for part in ("tune", "held"):
            n = [r for r in rows.values() if r["half"] == part]
            leg, best = best_single(rows, part)
            row = {"queries": len(n), "short": sum(r["short"] for r in n),
                   "best single": {"leg": leg, "value": round(best, 4)}}
            for c in columns:
                row[c] = round(mean(rows, part, c), 4)
                row[f"ratio {c}"] = round(row[c] / best, 4)
            out[name][part] = row
    if "pubmedqa-zh" in per_set and "pubmedqa" in per_set:  # Chinese questions against their English twins
        zh, en = per_set["pubmedqa-zh"], per_set["pubmedqa"]
        for part in ("tune", "held"):
            ids = [q for q, r in zh.items() if r["half"] == part]
            out["pubmedqa-zh"][part]["zh/en"] = {
                c: round(float(np.mean([zh[q][c] for q in ids]) / np.mean([en[q][c] for q in ids])), 4) for c in columns}
    return out


def table(rep: dict, columns) -> str:
    lines = ["| set (metric) | half | n | short | " + " | ".join(f"hybrid {c}" for c in columns)
             + " | best single | " + " | ".join(f"÷ best: {c}" for c in columns) + " |",
             "|" + "---|" * (5 + 2 * len(columns))]
    for name, parts in rep.items():
        for part, r in parts.items():
            lines.append(f"| {name} ({ts.HEADLINE[name]}) | {part} | {r['queries']} | {r['short']} | "
                         + " | ".join(f"{r[c]:.3f}" for c in columns)
                         + f" | {r['best single']['value']:.3f} ({r['best single']['leg']}) | "
                         + " | ".join(f"{r['ratio ' + c]:.3f}" for c in columns) + " |")
    for part in ("tune", "held"):
        zh = rep.get("pubmedqa-zh", {}).get(part, {}).get("zh/en")
        if zh:
            lines.append(f"\nPubMedQA Chinese ÷ English MRR@10, same questions, {part} half: "
                         + ", ".join(f"{c} {v:.3f}" for c, v in zh.items()))
    return "\n".join(lines)


def arguments(doc: str, out: str, argv: list[str] | None) -> argparse.Namespace:
    """The command line every lever script shares: the sets, the evidence cache, the result file."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("sets", nargs="*", default=[*tune.SETS, "wmt18 zh->en", "wmt18 en->zh", "concepts"])
    ap.add_argument("--evidence-cache", type=Path, default=None,
                    help="folder for each set's leg scores (bench/tune_split.py's; reruns take seconds)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / out)
    return ap.parse_args(argv)


def rows_per_set(args: argparse.Namespace, measure, t0: float) -> dict:
    """`measure(readings, queries, qrels, metric)` for every dev set in `args.sets`, by set name."""
    per_set = {}
    for name, records, queries, qrels, index_name in ts.dev_sets(args.sets):
        readings = ts.read_set(records, queries, qrels, index_name, args.evidence_cache)
        per_set[name] = measure(readings, queries, qrels, ts.HEADLINE[name])
        print(f"{name}: {len(readings)} queries, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return per_set


def main(argv: list[str] | None = None) -> None:
    args = arguments(__doc__, "results-levers.json", argv)
    t0 = time.perf_counter()
    per_set = rows_per_set(args, measure, t0)
    shift, tried = choose_shift(per_set)
    columns = (*VARIANTS, f"shift {shift}")
    rep = report(per_set, columns)
    result = {"git": git_state(ROOT), "split": "as bench/tune_split.py", "weights": asdict(THREE_LEGS),
              "short rule": SHORT_RULE, "shifts tried (tune worst, mean ratio)": {str(s): k for s, k in tried.items()},
              "shift chosen (tune halves)": shift,
              "sets": rep, "total_s": round(time.perf_counter() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(table(rep, columns))
    print(f"\nshort: {SHORT_RULE}; USE share moved by {shift}, chosen on the tune halves; "
          f"(worst, mean) ratio per shift: {tried}")
    print(f"written to {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
