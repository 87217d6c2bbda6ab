"""Lever 3 (issue #13): a record that two of the three legs rank first is ranked first
(`search.fusion.agree`), measured on the tune and held-back halves of every dev set.

    python bench/consensus.py --evidence-cache DIR   (same sets, split and cache as bench/tune_split.py)

Why: for a Chinese question each leg reads a different rendering of it (USE the Chinese, BM25 its
tokens and CC-CEDICT glosses, MiniLM the English keywords derived from it). On PubMedQA-zh the
weighted sum ranked third a record that BM25 and MiniLM both ranked first while USE missed it.

Scopes, on top of the shipped weights (`THREE_LEGS` with `consensus` off):
- candidates for the choice: "off", "zh" (Chinese queries that are not short), "all" (every query
  that is not short). Short queries are excluded beforehand: their fusion is BM25-led by design
  (`short_dense_weight`), which a first place taken from the other legs would undo.
- measured only, for the record: "zh + short" and "all + short" (the same, short queries included).

The scope is chosen on the tune halves only, by bench/tune_split.py's criterion (the highest
worst-case hybrid ÷ best single leg, then the highest mean ratio), ties to the earlier scope in
`CHOICES` (off first). Output: a table on stdout and bench/out/results-consensus.json.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import levers  # noqa: E402
import tune_split as ts  # noqa: E402
from run import git_state  # noqa: E402

from search.fusion import THREE_LEGS, agree, fuse  # noqa: E402
from search.query import SHORT_RULE, is_short  # noqa: E402

CHOICES = ("off", "zh", "all")  # the scopes the choice is made among (FusionWeights.consensus)
SCOPES = {
    "off": lambda lang, short: False,
    "zh": lambda lang, short: lang == "zh" and not short,
    "all": lambda lang, short: not short,
    "zh + short": lambda lang, short: lang == "zh",
    "all + short": lambda lang, short: True,
}
BASE = replace(THREE_LEGS, consensus="off")


def measure(readings: dict, queries: dict, qrels: dict, metric: str) -> dict:
    """Per query: hybrid under every scope, each single leg; with language, half and shape."""
    rows = {}
    for qid, r in readings.items():
        rels, short = qrels[qid], is_short(queries[qid], r.lang)
        scores = r.scores(BASE.lead_weight)
        fused = fuse(scores, BASE, r.lang, r.coverage, short)
        agreed = agree(fused, scores)
        row = {"lang": r.lang, "half": ts.half(qid), "short": short, "singles": levers.singles(r, rels, metric)}
        for scope, acts in SCOPES.items():
            row[scope] = ts.value(r, agreed if acts(r.lang, short) else fused, rels, metric)
        rows[qid] = row
    return rows


def choose(per_set: dict) -> tuple[str, dict[str, tuple]]:
    """The scope with the best (worst, mean) ratio over the tune halves; ties to the earlier scope."""
    def key(scope):
        ratios = [levers.mean(rows, "tune", scope) / levers.best_single(rows, "tune")[1] for rows in per_set.values()]
        return round(min(ratios), 3), round(float(np.mean(ratios)), 3)
    keys = {scope: key(scope) for scope in SCOPES}
    best = max(keys[c] for c in CHOICES)
    return next(c for c in CHOICES if keys[c] == best), keys


def main(argv: list[str] | None = None) -> None:
    args = levers.arguments(__doc__, "results-consensus.json", argv)
    t0 = time.perf_counter()
    per_set = levers.rows_per_set(args, measure, t0)
    chosen, tried = choose(per_set)
    rep = levers.report(per_set, tuple(SCOPES))
    result = {"git": git_state(ROOT), "split": "as bench/tune_split.py", "weights": asdict(BASE),
              "short rule": SHORT_RULE, "scopes tried (tune worst, mean ratio)": tried,
              "scope chosen (tune halves)": chosen, "shipped scope": THREE_LEGS.consensus,
              "sets": rep, "total_s": round(time.perf_counter() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(levers.table(rep, tuple(SCOPES)))
    print(f"\nscope chosen on the tune halves among {CHOICES}: {chosen} (shipped: {THREE_LEGS.consensus}); "
          f"(worst, mean) ratio per scope: {tried}")
    print(f"written to {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
