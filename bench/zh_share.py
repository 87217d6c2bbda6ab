#!/usr/bin/env python
"""The English leg's share for Chinese queries, on every dev set's halves (issue #13, ask 3).

    python bench/zh_share.py --evidence-cache DIR      (same sets, split and cache as bench/tune_split.py)

A Chinese query reaches the English MiniLM leg only through English keywords derived from it (the
glossary and CC-CEDICT), so its share (`FusionWeights.english_weight_zh`, shipped 0.4) trades two
kinds of Chinese query against each other: questions (PubMedQA-zh), which the keywords read well,
and translation-like sentences (WMT18 zh→en), which USE reads far better. This measures that trade
under the shipped fusion (short queries toward BM25 included), with the share moved alone, with
`trust` (the share moved per query by the legs' raw margins), and for Chinese questions only
(`QUESTION`; statements keep the shipped share), and the Chinese ÷ English MRR@10 ratio on the
same PubMedQA questions. Measurement only: no default changes here.
"""

from __future__ import annotations

import argparse
import json
import re
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
from search.query import is_short  # noqa: E402

SHARES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
# A Chinese question (not a statement): a question mark at the end or a question word. Written
# before its rows were computed; PubMedQA-zh: 62 of 63 queries, WMT18 zh→en: 10 of 456, concepts: 0.
QUESTION = re.compile(r"[？?]\s*$|吗|是否|哪些|哪种|如何|什么|为何|为什么|怎样|能否|是不是")


def hybrid(r: ts.Reading, rels: dict, metric: str, weights: FusionWeights, short: bool) -> float:
    scores = {"dense": r.dense, "lexical": r.lexical}
    if r.views:
        scores["english"] = tune.english_scores(r.views, weights.lead_weight)
    return ts.value(r, fuse(scores, weights, r.lang, r.coverage, short), rels, metric)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--evidence-cache", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "results-zh-share.json")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    sets = {}
    for name, records, queries, qrels, index_name in ts.dev_sets([*tune.SETS, "wmt18 zh->en", "wmt18 en->zh",
                                                                  "concepts"]):
        sets[name] = (ts.read_set(records, queries, qrels, index_name, args.evidence_cache), queries, qrels)
    rows = []
    for trust, questions_only in ((False, False), (True, False), (False, True)):
        for share in SHARES:
            w = replace(THREE_LEGS, english_weight_zh=share, trust=trust)
            row = {"english_weight_zh": share, "trust": trust, "questions only": questions_only}
            per_query = {}
            for name, (readings, queries, qrels) in sets.items():
                per_query[name] = {
                    q: hybrid(r, qrels[q], ts.HEADLINE[name],
                              w if not questions_only or QUESTION.search(queries[q]) else THREE_LEGS,
                              is_short(queries[q], r.lang))
                    for q, r in readings.items()}
                for half in ("tune", "held"):
                    row[f"{name} {half}"] = round(float(np.mean([v for q, v in per_query[name].items()
                                                                 if ts.half(q) == half])), 3)
            for half in ("tune", "held"):  # the Chinese questions against their own English twins
                ids = [q for q in per_query["pubmedqa-zh"] if ts.half(q) == half]
                row[f"zh/en {half}"] = round(float(np.mean([per_query["pubmedqa-zh"][q] for q in ids])
                                                   / np.mean([per_query["pubmedqa"][q] for q in ids])), 3)
            rows.append(row)
    result = {"git": git_state(ROOT), "split": "as bench/tune_split.py", "weights": asdict(THREE_LEGS),
              "rows": rows, "total_s": round(time.perf_counter() - t0, 1)}
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    cols = ["pubmedqa-zh tune", "pubmedqa-zh held", "zh/en tune", "zh/en held", "wmt18 zh->en tune",
            "wmt18 zh->en held", "concepts tune", "concepts held"]
    print("| share (zh) | trust | questions only | " + " | ".join(cols) + " |")
    print("|---|---|---|" + "---|" * len(cols))
    for row in rows:
        print(f"| {row['english_weight_zh']} | {row['trust']} | {row['questions only']} | "
              + " | ".join(f"{row[c]:.3f}" for c in cols) + " |")
    print(f"written to {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
