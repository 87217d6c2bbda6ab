#!/usr/bin/env python
"""Warm speed of the workflow features beside a plain search of the same depth, on one index.

    python bench/workflow.py INDEX_DIR [--queries 60] [--alerts 50] [--json OUT.json]

Side by side in one process, interleaved query by query (so a busy moment of the machine hits
every variant alike), after warm-up; medians and 90th percentiles in ms:

- plain search, k=10 (real PubMedQA / PubMedQA-zh questions, quotes removed so they stay plain);
- the same text with a phrase and field terms added (`"patients" year:1900-2100`: a phrase most
  records hold and a field that keeps every dated record, so the ranking still has work to do);
- a query of fields and a phrase only (listed newest first);
- `similar` (k=10) for the top record of each plain query;
- plain search k=100, and the same with its 100 records exported as RIS, BibTeX and CSV;
- `alert run` over `--alerts` saved searches (the same questions) on a copy of the index, after an
  update that adds `--new-records` records (a run with nothing new ranks nothing): the in-process
  run (one searcher for all) and the whole `oncosearch alert run` command, cold (the state is rolled
  back between the two: `--dry-run`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import git_state, load_queries, loadavg  # noqa: E402
from corpus import read_file  # noqa: E402
from search.engine import Searcher  # noqa: E402
from search.export import export  # noqa: E402
from search.similar import similar  # noqa: E402

EXPORTS = ("ris", "bibtex", "csv")


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered), 2), "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
            "n": len(ordered)}


def variants(searcher: Searcher, text: str) -> dict:
    """name -> a call that answers one request of that kind for `text`."""
    top = searcher.search(text, k=1, snippets=False)
    out = {
        "plain search k=10": lambda: searcher.search(text, k=10),
        "search with phrase + fields k=10": lambda: searcher.search(f'{text} "patients" year:1900-2100', k=10),
        "fields + phrase only (newest first) k=10": lambda: searcher.search('"immunotherapy" year:2015-2030', k=10),
        "plain search k=100": lambda: searcher.search(text, k=100),
    }
    if top:
        out["similar k=10"] = lambda: similar(searcher, top[0].record.id, k=10)
    for fmt in EXPORTS:
        out[f"search k=100 + export {fmt}"] = lambda fmt=fmt: export([h.record for h in searcher.search(text, k=100)],
                                                                     fmt)
    return out


def time_requests(searcher: Searcher, texts: list[str], warmup: int = 3) -> dict[str, dict]:
    for text in texts[:warmup]:
        for call in variants(searcher, text).values():
            call()
    times: dict[str, list[float]] = {}
    for text in texts[warmup:]:
        for name, call in variants(searcher, text).items():
            t0 = time.perf_counter()
            call()
            times.setdefault(name, []).append((time.perf_counter() - t0) * 1000)
    return {name: summary(values) for name, values in times.items()}


def time_alerts(index: Path, texts: list[str], n: int, news: Path) -> dict:
    """`alert run` over `n` saved searches on a copy of `index` (nothing of the original is touched),
    after an update that adds the records of `news`: with nothing new a run ranks nothing."""
    from index.pipeline import write_index
    from search.alerts import add_alert, run_alerts

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index"
        shutil.copytree(index, copy)
        for i, text in enumerate((texts * (n // len(texts) + 1))[:n]):
            add_alert(copy, f"a{i:03d}", text)
        write_index(copy, [news], update=True)
        t0 = time.perf_counter()
        run = run_alerts(copy, deliver=lambda run: None, dry_run=True)  # the command below finds the same news
        in_process = time.perf_counter() - t0
        cli = str(Path(sys.executable).with_name("oncosearch"))
        t0 = time.perf_counter()
        proc = subprocess.run([cli, "alert", "run", "--index", str(copy), "--format", "json"], capture_output=True,
                              text=True)
        command = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"oncosearch alert run failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    return {"alerts": n, "in_process_s": round(in_process, 2), "command_s": round(command, 2),
            "alerts_with_news": len(run.news), "new_records": sum(len(r.new) for r in run.results)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("index", type=Path)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--news", type=Path, default=ROOT.parent / "shared" / "corpus" / "pubmed20n0014.xml.gz",
                        help="records to add before the alert run (the first --new-records of this file)")
    parser.add_argument("--new-records", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    texts = [t.translate(str.maketrans("", "", '"“”「」')) for t in load_queries(ROOT, args.shared, args.queries)]
    searcher = Searcher(args.index)
    load_before = loadavg()
    requests = time_requests(searcher, texts)
    with tempfile.TemporaryDirectory() as tmp:
        news = Path(tmp) / "news.jsonl"
        news.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                                for r in read_file(args.news).records[:args.new_records]), encoding="utf-8")
        alerts = time_alerts(args.index, texts, args.alerts, news)
    result = {"index": str(args.index), "records": searcher.storage.records, "queries": len(texts), **git_state(ROOT),
              "loadavg_before": load_before, "loadavg_after": loadavg(), "requests": requests, "alert_run": alerts}
    width = max(len(name) for name in requests)
    for name, figures in requests.items():
        print(f"{name:<{width}}  p50 {figures['p50_ms']:8.1f} ms   p90 {figures['p90_ms']:8.1f} ms")
    print(f"alert run, {alerts['alerts']} saved searches after {args.new_records} new records "
          f"({alerts['alerts_with_news']} alerts with news): {alerts['in_process_s']} s in process, "
          f"{alerts['command_s']} s as a command")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
