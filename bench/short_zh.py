"""The English leg's share for short Chinese queries (issue #13, "weights by query language"),
measured on the tune and held-back halves of every dev set.

    python bench/short_zh.py --evidence-cache DIR   (same sets, split and cache as bench/tune_split.py)

Why: a short Chinese query is mostly a concept's name ("TCR-T细胞治疗", "靶向CD19治疗"). The English
leg reads it through the glossary's English names and the Latin-script words the query keeps
(`search.query.Query.english`), and on the concept set it reads such names better than the
weighted sum of the legs does (MiniLM alone above hybrid on the Chinese concepts). Chinese
questions and sentences keep `english_weight_zh`, where a larger share costs WMT18 zh→en
("questions against translations" in BENCHMARKS.md).

The share (`FusionWeights.short_english_weight_zh`; "as others" = `english_weight_zh`) is chosen
on the tune halves only, by bench/tune_split.py's criterion (the highest worst-case hybrid ÷ best
single leg, then the highest mean ratio), ties to the smaller share. Everything else is the
shipped `THREE_LEGS`. Output: a table on stdout and bench/out/results-short-zh.json.
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

from search.fusion import THREE_LEGS, fuse  # noqa: E402
from search.query import SHORT_RULE, is_short  # noqa: E402

SHARES = (None, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # None: as other Chinese queries (english_weight_zh)


def label(share: float | None) -> str:
    return "as others" if share is None else f"{share}"


def measure(readings: dict, queries: dict, qrels: dict, metric: str) -> dict:
    """Per query: hybrid at every share, each single leg; with language, half and shape."""
    rows = {}
    for qid, r in readings.items():
        rels, short = qrels[qid], is_short(queries[qid], r.lang)
        scores = r.scores(THREE_LEGS.lead_weight)
        row = {"lang": r.lang, "half": ts.half(qid), "short": short, "singles": levers.singles(r, rels, metric)}
        for share in SHARES:
            w = replace(THREE_LEGS, short_english_weight_zh=share)
            row[label(share)] = ts.value(r, fuse(scores, w, r.lang, r.coverage, short), rels, metric)
        rows[qid] = row
    return rows


def choose(per_set: dict) -> tuple[float | None, dict[str, tuple]]:
    """The share with the best (worst, mean) ratio over the tune halves; ties to the smaller."""
    def key(share):
        ratios = [levers.mean(rows, "tune", label(share)) / levers.best_single(rows, "tune")[1]
                  for rows in per_set.values()]
        return round(min(ratios), 3), round(float(np.mean(ratios)), 3)
    keys = {share: key(share) for share in SHARES}
    best = max(keys.values())
    return next(s for s in SHARES if keys[s] == best), {label(s): k for s, k in keys.items()}


def per_language(rows: dict, columns: list[str]) -> dict:
    """Each half's mean per query language (the concept set asks every concept in both)."""
    out = {}
    for part in ("tune", "held"):
        for lang in ("en", "zh"):
            chosen = [r for r in rows.values() if r["half"] == part and r["lang"] == lang]
            if chosen:
                out[f"{part} {lang}"] = {c: round(float(np.mean([r[c] for r in chosen])), 4) for c in columns}
    return out


def main(argv: list[str] | None = None) -> None:
    args = levers.arguments(__doc__, "results-short-zh.json", argv)
    t0 = time.perf_counter()
    per_set = levers.rows_per_set(args, measure, t0)
    chosen, tried = choose(per_set)
    columns = [label(s) for s in SHARES]
    rep = levers.report(per_set, columns)
    languages = {name: per_language(rows, columns) for name, rows in per_set.items() if name == "concepts"}
    result = {"git": git_state(ROOT), "split": "as bench/tune_split.py",
              "weights": asdict(replace(THREE_LEGS, short_english_weight_zh=None)), "short rule": SHORT_RULE,
              "shares tried (tune worst, mean ratio)": tried, "share chosen (tune halves)": chosen,
              "shipped share": THREE_LEGS.short_english_weight_zh, "sets": rep, "per language": languages,
              "total_s": round(time.perf_counter() - t0, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(levers.table(rep, columns))
    for name, parts in languages.items():
        for part, values in parts.items():
            print(f"{name} {part}: " + ", ".join(f"{c} {v:.3f}" for c, v in values.items()))
    print(f"\nshare chosen on the tune halves: {label(chosen)} (shipped: {THREE_LEGS.short_english_weight_zh}); "
          f"(worst, mean) ratio per share: {tried}")
    print(f"written to {args.out} ({result['total_s']:.0f} s)")


if __name__ == "__main__":
    main()
