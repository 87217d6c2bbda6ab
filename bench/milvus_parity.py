#!/usr/bin/env python
"""Milvus against the local backend on every shared dev set: the same evaluation index, ranked once
from its local files and once from its Milvus mirror (milvus-lite), every metric side by side.

    python bench/milvus_parity.py [--modes hybrid,dense,lexical,english] [--json bench/out/results-milvus-parity.json]

The same as `oncosearch eval SET --mode M` and `oncosearch eval SET --mode M --backend milvus` per
set and mode (the mirror is written on first use, beside the evaluation index). The issue's bar:
every metric within 0.005.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
sys.path.insert(0, str(ROOT))

from bench.run import git_state, loadavg  # noqa: E402
from search.evaluate import run_eval  # noqa: E402

SETS = {  # name -> run_eval arguments, as the quality section of bench/run.py runs them
    "pubmedqa": {"folder": SHARED / "bench" / "pubmedqa"},
    "pubmedqa + sample distractors": {"folder": SHARED / "bench" / "pubmedqa",
                                      "add": [ROOT / "corpus" / "sample" / "pubmed21n1298-oncology.xml.gz"]},
    "pubmedqa-zh": {"folder": SHARED / "bench" / "pubmedqa", "queries_file": ROOT / "bench" / "pubmedqa-zh" /
                    "queries.jsonl"},
    "liveqa-dev": {"folder": SHARED / "bench" / "liveqa-dev"},
    "wmt18-biomed-zh-en": {"folder": SHARED / "bench" / "wmt18-biomed-zh-en"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", default="hybrid,dense,lexical,english")
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results-milvus-parity.json")
    args = ap.parse_args()
    result = {"command": " ".join(["python", "bench/milvus_parity.py", *sys.argv[1:]]), **git_state(ROOT),
              "loadavg_start": loadavg(), "rows": []}
    worst = 0.0
    for name in args.sets.split(","):
        for mode in args.modes.split(","):
            row = {"set": name, "mode": mode}
            for backend in ("local", "milvus"):
                t = time.perf_counter()
                report = run_eval(**SETS[name], mode=mode, backend=backend)
                row[backend] = {k: v for k, v in report.items() if isinstance(v, float)}
                row[f"{backend}_s"] = round(time.perf_counter() - t, 1)
            row["max_abs_diff"] = max(abs(row["local"][m] - row["milvus"][m]) for m in row["local"])
            worst = max(worst, row["max_abs_diff"])
            result["rows"].append(row)
            args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")  # so far
            print(f"{name:>30} {mode:>8}: max |local - milvus| {row['max_abs_diff']:.4f} "
                  f"({row['local_s']} s / {row['milvus_s']} s)", file=sys.stderr, flush=True)
    result["max_abs_diff"] = worst
    result["loadavg_end"] = loadavg()
    args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"worst difference over every set, mode and metric: {worst:.4f}")


if __name__ == "__main__":
    main()
