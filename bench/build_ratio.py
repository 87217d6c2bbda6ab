"""The whole-build ratio (raw encode s ÷ build s; target >= 0.9) as the median of K paired runs.

    python bench/build_ratio.py --records N --pairs K [--source FILE] [--json OUT] [--out OUT.md]

`bench/run.py`'s section 1 computes the ratio from one build and one raw encode; two raw encodes of the
same texts have differed by 53 % on a busy machine, so one sample is not a figure. Here each pair is
(a) a cold build of the first N records into a fresh index folder with an empty embedding cache
(`bench/run.py --worker build`, its own process, as section 1 measures it) and (b) the raw encode of the
same distinct texts with both models (`--worker encode`, its own process, every text, no sampling). The
order alternates within pairs (build first, then raw first, ...) so both sides see the same load. Ratio
per pair = raw s ÷ build s; the report gives the median, min–max and IQR over the pairs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import REPO, Runner, git_state, loadavg, machine_info, pubmed_subset  # noqa: E402

DEFAULT_SOURCE = REPO / "corpus" / "sample" / "pubmed21n1298-oncology.xml.gz"


def quartiles(values: list[float]) -> tuple[float, float]:
    """Q1 and Q3 (inclusive method; with one value both are that value)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def summarise(pairs: list[dict]) -> dict:
    ok = [p for p in pairs if p.get("ratio") is not None]
    if not ok:
        return {"pairs_ok": 0}
    ratios = [p["ratio"] for p in ok]
    q1, q3 = quartiles(ratios)
    med = statistics.median
    return {
        "pairs_ok": len(ok), "ratio_median": med(ratios), "ratio_min": min(ratios), "ratio_max": max(ratios),
        "ratio_q1": q1, "ratio_q3": q3, "ratio_iqr": q3 - q1,
        "build_s_median": med(p["build_s"] for p in ok), "build_s_min": min(p["build_s"] for p in ok),
        "build_s_max": max(p["build_s"] for p in ok),
        "raw_s_median": med(p["raw_s"] for p in ok), "raw_s_min": min(p["raw_s"] for p in ok),
        "raw_s_max": max(p["raw_s"] for p in ok),
        "target": 0.9, "meets_target": med(ratios) >= 0.9,
    }


def run_pairs(r: Runner, sources: list[str], pairs: int) -> list[dict]:
    out = []
    for i in range(pairs):
        order = ["build", "encode"] if i % 2 == 0 else ["encode", "build"]
        index_dir = r.workdir / f"index-pair{i}"
        shutil.rmtree(index_dir, ignore_errors=True)  # fresh folder: empty embedding cache
        res: dict = {}
        for task in order:
            if task == "build":
                res["build"] = r.worker("build", {"index_dir": str(index_dir), "sources": sources})
            else:
                res["encode"] = r.worker("encode", {"sources": sources, "sample": None})
        shutil.rmtree(index_dir, ignore_errors=True)
        b, e = res["build"], res["encode"]
        pair: dict = {"pair": i, "order": "build first" if order[0] == "build" else "raw first",
                      "load_after": loadavg()}
        if "error" in b or "error" in e:
            pair["error"] = b.get("error") or e.get("error")
        else:
            pair.update({
                "build_s": b["seconds"], "raw_s": e["raw_total_s"], "ratio": e["raw_total_s"] / b["seconds"],
                "embedding_s": b["embedding_s"], "records": b["records"], "chunks": b["embedded_chunks"],
                "cached_chunks": b["cached_chunks"], "en_passages": b.get("en_passages"),
                "use_texts": e["use"]["texts"], "use_s": e["use"]["seconds"],
                "minilm_texts": e["minilm"].get("texts"), "minilm_s": e["minilm"].get("seconds"),
                "build_wall_s": b["process"]["wall_s"], "raw_wall_s": e["process"]["wall_s"],
            })
        pair["build_run"], pair["raw_run"] = b, e
        r.log(f"pair {i} ({pair['order']}): " + (f"build {pair['build_s']:.1f} s, raw {pair['raw_s']:.1f} s, "
                                                  f"ratio {pair['ratio']:.3f}" if "ratio" in pair
                                                  else f"FAILED: {pair['error']}"))
        out.append(pair)
    return out


def render(res: dict) -> str:
    s = res["summary"]
    L = [f"# Whole-build ratio, median of {res['pairs']} paired runs ({res['records_requested']} records)", "",
         f"- Command: `{res['command']}`",
         f"- Date: {res['date']}; commit {res.get('commit')} ({'clean' if res.get('clean') else 'UNCOMMITTED CHANGES'})",
         f"- Machine: {res['machine'].get('cpu')}, {res['machine'].get('cores')} cores, "
         f"{res['machine'].get('ram_gib')} GiB; load averages at start {res['load_start']}, at end {res['load_end']}",
         f"- Source: `{res['source']}` (first {res['records_requested']} records)", ""]
    if s.get("pairs_ok"):
        L += [f"**Ratio (raw s ÷ build s): median {s['ratio_median']:.3f}**, min–max "
              f"{s['ratio_min']:.3f}–{s['ratio_max']:.3f}, IQR {s['ratio_iqr']:.3f} "
              f"(Q1 {s['ratio_q1']:.3f}, Q3 {s['ratio_q3']:.3f}); target ≥ 0.9: "
              f"{'met' if s['meets_target'] else 'not met'}. Build s median {s['build_s_median']:.1f} "
              f"({s['build_s_min']:.1f}–{s['build_s_max']:.1f}); raw s median {s['raw_s_median']:.1f} "
              f"({s['raw_s_min']:.1f}–{s['raw_s_max']:.1f}).", ""]
    else:
        L += ["**No pair succeeded.**", ""]
    L += ["| pair | order | records | chunks | EN passages | build s | raw s (USE + MiniLM) | ratio | load after |",
          "|---|---|---|---|---|---|---|---|---|"]
    for p in res["pair_runs"]:
        if "ratio" in p:
            L.append(f"| {p['pair']} | {p['order']} | {p['records']} | {p['chunks']} | {p['en_passages']} | "
                     f"{p['build_s']:.1f} | {p['raw_s']:.1f} ({p['use_s']:.1f} + {p['minilm_s'] or 0:.1f}) | "
                     f"{p['ratio']:.3f} | {p['load_after']} |")
        else:
            L.append(f"| {p['pair']} | {p['order']} | | | | | | failed: {p['error']} | {p['load_after']} |")
    L += ["", "Build s: `write_index` into a fresh folder with an empty embedding cache, in its own process "
          "(`bench/run.py --worker build`). Raw s: both models' encode time on the build's own distinct texts "
          "(USE chunks, MiniLM English passages), model loads excluded, in its own process "
          "(`--worker encode`, every text). The order alternates within pairs.", ""]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, required=True, help="first N records of the source")
    ap.add_argument("--pairs", type=int, required=True, help="K paired runs (build + raw encode)")
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="a PubMed XML .gz file (default: the sample)")
    ap.add_argument("--json", type=Path, default=None, help="results JSON")
    ap.add_argument("--out", type=Path, default=None, help="Markdown report")
    ap.add_argument("--python", default=sys.executable, help="interpreter for the children")
    ap.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one, removed)")
    a = ap.parse_args(argv)
    if a.records < 1 or a.pairs < 1:
        ap.error("--records and --pairs must be at least 1")

    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="oncosearch-build-ratio-"))
    workdir.mkdir(parents=True, exist_ok=True)
    r = Runner(REPO, a.python, workdir)
    res: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/build_ratio.py", *(argv if argv is not None else sys.argv[1:])]),
        **git_state(REPO), "machine": machine_info(), "load_start": loadavg(),
        "source": str(a.source), "records_requested": a.records, "pairs": a.pairs,
    }
    try:
        t = time.perf_counter()
        # the texts, written once: the first N <PubmedArticle> elements (what --quick builds in run.py)
        subset = pubmed_subset(a.source, a.records, workdir / f"subset-{a.records}.xml.gz")
        sources = [str(subset)]
        res["pair_runs"] = run_pairs(r, sources, a.pairs)
        res["elapsed_s"] = time.perf_counter() - t
    finally:
        if a.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    res["load_end"] = loadavg()
    res["summary"] = summarise(res["pair_runs"])
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False))
    md = render(res)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(md)
    print(md)
    return 0 if res["summary"].get("pairs_ok") else 1


if __name__ == "__main__":
    sys.exit(main())
