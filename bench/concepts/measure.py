#!/usr/bin/env python
"""nDCG@10 (and MRR@10, recall@10) of the concept set per mode, for all queries and per language,
by `oncosearch eval` on one commit, into one result file.

    python bench/concepts/measure.py [--folder bench/out/concepts] [--modes hybrid,dense,lexical,english]
                                     [--json bench/out/results-concepts.json]

Writes the BEIR folder first when it is missing (write_beir.py); every `oncosearch eval` reads the
same folder, so one evaluation index (cached by the code's fingerprint) answers them all.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from bench.run import git_state, loadavg  # noqa: E402

KEYS = ("ndcg@10", "mrr@10", "recall@10", "queries")


def evaluate(folder: Path, mode: str, queries: Path | None) -> dict:
    command = [sys.executable, "-m", "search.cli", "eval", str(folder), "--mode", mode, "--json"]
    command += ["--queries", str(queries)] if queries else []
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    report = json.loads(proc.stdout)
    return {k: report.get(k) for k in KEYS} | {"index": report.get("index")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folder", type=Path, default=ROOT / "bench" / "out" / "concepts")
    ap.add_argument("--modes", default="hybrid,dense,lexical,english")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results-concepts.json")
    args = ap.parse_args()
    if not (args.folder / "corpus.jsonl").exists():
        from write_beir import write_folder

        write_folder(args.folder)
    result = {"set": "bench/concepts (42 concepts, 84 queries: en + zh twins, graded qrels judged on the bundled sample)",
              **git_state(ROOT), "loadavg_start": loadavg(),
              "command": " ".join(["python", "bench/concepts/measure.py", *sys.argv[1:]]), "results": {}}
    for part, queries in (("all", None), ("en", args.folder / "en" / "queries.jsonl"),
                          ("zh", args.folder / "zh" / "queries.jsonl")):
        for mode in args.modes.split(","):
            result["results"].setdefault(part, {})[mode] = r = evaluate(args.folder, mode, queries)
            print(f"{part:>3} {mode:>8}: nDCG@10 {r['ndcg@10']:.4f} ({r['queries']} queries)", file=sys.stderr)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
