#!/usr/bin/env python
"""Query latency of two code trees side by side, in one run (A = before, B = after a change).

    python bench/ab.py --index DIR --a OLD_TREE --b NEW_TREE [--label-a old] [--label-b new]
        [--cold-runs 10] [--warm-queries 200] [--rounds 3] [--modes hybrid,dense] [--order ab|abba]
        [--json OUT.json] [--out OUT.md]

OLD_TREE and NEW_TREE are checkouts of this repository (e.g. ``git worktree add /tmp/old HEAD~1``),
both run by the same interpreter (``--python``, default: this one) on the same index. Per mode:

- cold: ``python -m search.cli search QUERY --index DIR --json --mode M`` as a new process, cwd and
  PYTHONPATH set to the tree; one unmeasured run per tree (OS file cache warm), then --cold-runs
  pairs A,B,A,B,... (each pair on the same query) so both trees see the same machine load; min /
  median / max wall time per tree and the median of the per-pair ratios B/A with its IQR.
- warm: per round and tree, a child process with the tree on sys.path opens ``Searcher(index)``
  once, warms up with 5 queries and times --warm-queries real queries (``load_queries`` of
  bench/run.py, Chinese and English); A and B alternate for --rounds rounds; p50/p95 per round and
  the median of the per-round ratios B/A.

The worker uses only ``search.engine.Searcher(index_dir)`` (questions read as plain text where the
tree has query syntax: ``plain_searcher`` of bench/run.py) and ``searcher.search(text, k=10,
mode=mode)``, APIs that both trees share. Both trees get the same queries; their top-10 ids are
compared too (a refactor of the query path should not change the results). B/A < 1: B is faster.
The report records each tree's commit and whether its tree is clean, the machine, load averages,
the command line and the date. This file imports only the standard library at module level.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import json
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WARMUP = 5
K = 10
CJK = re.compile(r"[\u4e00-\u9fff]")


@functools.cache
def _bench_run():
    """bench/run.py of this checkout (stdlib only at module level): Runner, load_queries, machine_info..."""
    spec = importlib.util.spec_from_file_location("oncosearch_bench_run", HERE / "run.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _pct(values: list[float], q: float) -> float:
    """bench/run.py's percentile, NaN for no values."""
    return _bench_run().pct(values, q) if values else float("nan")


def _ids_digest(ids: list) -> str:
    return hashlib.sha1(json.dumps([str(i) for i in ids]).encode()).hexdigest()[:12]


# --------------------------------------------------------------------------------------------------
# worker: runs in a child with the tree under test first on sys.path


def _hit_id(hit):
    rec = getattr(hit, "record", None)
    if rec is not None and getattr(rec, "id", None) is not None:
        return rec.id
    if getattr(hit, "id", None) is not None:
        return hit.id
    return hit.get("id") if isinstance(hit, dict) else None


def w_warm(p: dict) -> dict:
    """Searcher opened once; WARMUP untimed queries, then each query timed once."""
    plain_searcher = _bench_run().plain_searcher  # (bench/run.py itself is not part of the timing)
    t0 = time.perf_counter()
    import search
    import search.engine  # noqa: F401  (timed as the import)

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    searcher = plain_searcher(Path(p["index_dir"]))
    open_s = time.perf_counter() - t0
    queries = json.loads(Path(p["queries_file"]).read_text(encoding="utf-8"))
    mode = p["mode"]
    t = time.perf_counter()
    for q in queries[: p["warmup"]]:
        searcher.search(q, k=K, mode=mode)
    warmup_s = time.perf_counter() - t
    lat, digests = [], []
    for q in queries:
        t = time.perf_counter()
        hits = searcher.search(q, k=K, mode=mode)
        lat.append(time.perf_counter() - t)
        digests.append(_ids_digest([_hit_id(h) for h in hits]))
    return {"search_file": search.__file__, "import_s": import_s, "open_s": open_s, "warmup_s": warmup_s, "n": len(lat),
            "p50_ms": _pct(lat, 50) * 1e3, "p95_ms": _pct(lat, 95) * 1e3, "mean_ms": statistics.fmean(lat) * 1e3,
            "max_ms": max(lat) * 1e3, "digests": digests}


WORKERS = {"warm": w_warm}


# --------------------------------------------------------------------------------------------------
# parent


def git_info(tree: Path) -> dict:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", "-C", str(tree), *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return proc.stdout if proc.returncode == 0 else None

    head = git("rev-parse", "HEAD")
    porcelain = git("status", "--porcelain")
    changes = porcelain.splitlines() if porcelain is not None else None
    subject = git("log", "-1", "--format=%s")
    return {"path": str(tree), "head": head.strip() if head else None,
            "subject": subject.strip() if subject else None,
            "clean": (not changes) if changes is not None else None,
            "n_changes": len(changes) if changes is not None else None, "changes": (changes or [])[:50]}


class Tree:
    """One side of the comparison: its own Runner (cwd and PYTHONPATH = the tree)."""

    def __init__(self, key: str, label: str, path: Path, bench, python: str, workdir: Path):
        self.key, self.label, self.path = key, label, path
        self.r = bench.Runner(path, python, workdir)
        self.r.env["PYTHONPATH"] = str(path)  # only this tree, as tests/conftest.py's run_cli does
        self.python = python

    def search_file(self) -> str:
        res = self.r.process([self.python, "-c", "import search; print(search.__file__)"], 120)
        if res["rc"] != 0:
            raise SystemExit(f"{self.label}: cannot import search from {self.path}: {res['stderr'].strip()[-500:]}")
        return res["stdout"].strip()

    def cold(self, query: str, index_dir: str, mode: str, timeout: float) -> dict:
        argv = [self.python, "-m", "search.cli", "search", query, "--index", index_dir, "--json", "--mode", mode]
        res = self.r.process(argv, timeout)
        out = {"rc": res["rc"], "wall_s": res["wall_s"], "maxrss_mib": res["maxrss_mib"], "cpu_s": res["cpu_s"]}
        if res["rc"] != 0 or res["timed_out"]:
            out["error"] = (res["stderr"].strip().splitlines() or ["(no stderr)"])[-1][:500]
            return out
        try:
            ids = [h.get("id") for h in json.loads(res["stdout"]).get("results", [])]
            out["digest"] = _ids_digest(ids)
            out["n_results"] = len(ids)
        except (ValueError, AttributeError):
            out["digest"] = None
        return out


def ordered(a: Tree, b: Tree, i: int, order: str) -> list[Tree]:
    return [b, a] if order == "abba" and i % 2 == 1 else [a, b]


def summary(values: list[float]) -> dict:
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def ratio_summary(ratios: list[float]) -> dict:
    if not ratios:
        return {}
    return {"median": statistics.median(ratios), "q25": _pct(ratios, 25), "q75": _pct(ratios, 75),
            "min": min(ratios), "max": max(ratios), "n": len(ratios)}


def run_cold(a: Tree, b: Tree, index_dir: str, mode: str, queries: list[str], runs: int, order: str,
             timeout: float) -> dict:
    out: dict = {"load_start": _bench.loadavg(), "warmup": {}, "pairs": []}
    for t in (a, b):  # unmeasured: OS file cache warm, .pyc written
        res = t.cold(queries[0], index_dir, mode, timeout)
        out["warmup"][t.key] = res
        if "error" in res:
            out["error"] = f"{t.label}: {res['error']}"
            a.r.log(f"cold {mode}: {out['error']}")
            return out
    for i in range(runs):
        q = queries[(i + 1) % len(queries)]
        pair: dict = {"query": q, "first": ordered(a, b, i, order)[0].key}
        for t in ordered(a, b, i, order):
            pair[t.key] = t.cold(q, index_dir, mode, timeout)
        out["pairs"].append(pair)
        errs = [f"{t.label}: {pair[t.key]['error']}" for t in (a, b) if "error" in pair[t.key]]
        if errs:
            out["error"] = "; ".join(errs)
            a.r.log(f"cold {mode}: {out['error']}")
            break
        a.r.log(f"cold {mode} pair {i + 1}/{runs}: {a.label} {pair['a']['wall_s']:.3f} s, "
                f"{b.label} {pair['b']['wall_s']:.3f} s")
    good = [p for p in out["pairs"] if "error" not in p["a"] and "error" not in p["b"]]
    if good:
        for t in (a, b):
            out[t.key] = summary([p[t.key]["wall_s"] for p in good])
            out[t.key]["peak_mib"] = max(p[t.key]["maxrss_mib"] for p in good)
        out["ratio"] = ratio_summary([p["b"]["wall_s"] / p["a"]["wall_s"] for p in good])
        out["same_results"] = sum(p["a"].get("digest") is not None and p["a"].get("digest") == p["b"].get("digest")
                                  for p in good)
        out["n_pairs"] = len(good)
    out["load_end"] = _bench.loadavg()
    return out


def run_warm(a: Tree, b: Tree, index_dir: str, mode: str, queries_file: Path, rounds: int, order: str,
             timeout: float) -> dict:
    out: dict = {"load_start": _bench.loadavg(), "rounds": []}
    for i in range(rounds):
        rnd: dict = {"first": ordered(a, b, i, order)[0].key}
        for t in ordered(a, b, i, order):
            res = t.r.worker("warm", {"index_dir": index_dir, "queries_file": str(queries_file), "mode": mode,
                                      "warmup": WARMUP}, timeout=timeout, script=Path(__file__).resolve())
            if "error" not in res and not str(Path(res["search_file"]).resolve()).startswith(str(t.path) + "/"):
                res["error"] = f"imported search from {res['search_file']}, not from {t.path}"
            rnd[t.key] = res
        out["rounds"].append(rnd)
        errs = [f"{t.label}: {rnd[t.key]['error']}" for t in (a, b) if "error" in rnd[t.key]]
        if errs:
            out["error"] = "; ".join(errs)
            a.r.log(f"warm {mode}: {out['error']}")
            break
        rnd["ratio_p50"] = rnd["b"]["p50_ms"] / rnd["a"]["p50_ms"]
        rnd["ratio_p95"] = rnd["b"]["p95_ms"] / rnd["a"]["p95_ms"]
        da, db = rnd["a"]["digests"], rnd["b"]["digests"]
        rnd["same_results"] = sum(x == y for x, y in zip(da, db, strict=False))
        for t in (a, b):
            rnd[t.key].pop("digests", None)
        a.r.log(f"warm {mode} round {i + 1}/{rounds}: p50 {a.label} {rnd['a']['p50_ms']:.1f} ms, "
                f"{b.label} {rnd['b']['p50_ms']:.1f} ms (B/A {rnd['ratio_p50']:.3f})")
    good = [r for r in out["rounds"] if "ratio_p50" in r]
    if good:
        out["ratio_p50"] = ratio_summary([r["ratio_p50"] for r in good])
        out["ratio_p95"] = ratio_summary([r["ratio_p95"] for r in good])
    out["load_end"] = _bench.loadavg()
    return out


# --------------------------------------------------------------------------------------------------
# report


def f3(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and x != x) else f"{x:.3f}"


def f1(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and x != x) else f"{x:.1f}"


def render(res: dict) -> str:
    la, lb = res["trees"]["a"]["label"], res["trees"]["b"]["label"]
    m = res["machine"]
    title = " vs ".join(lab if lab == key else f"{lab} ({key})" for lab, key in ((la, "A"), (lb, "B")))
    L = [f"# A/B query latency: {title}", ""]
    L += [f"Generated by `bench/ab.py` on {res['date']}: `{res['command']}`", "",
          f"- Index: `{res['index']}`; modes: {', '.join(res['modes'])}; order within a pair or round: "
          f"{'A then B' if res['order'] == 'ab' else 'A,B then B,A, alternately'}",
          f"- Queries: {res['n_queries']} ({res['n_queries_zh']} Chinese, {res['n_queries'] - res['n_queries_zh']} "
          f"English), from bench/run.py `load_queries`; k = {K}",
          f"- Machine: {m.get('cpu')}; {m.get('cores')} cores ({m.get('affinity_cores')} usable); RAM "
          f"{m.get('ram_gib')} GiB; Python {m.get('python')} (`{res['python']}`); {m.get('platform')}",
          f"- Load average (1, 5, 15 min) at start / end: {res['load_start']} / {res.get('load_end')}", ""]
    L += ["| | label | tree | commit | clean | `search` imported from |", "|---|---|---|---|---|---|"]
    for key in ("a", "b"):
        t = res["trees"][key]
        g = t["git"]
        n = g["n_changes"]
        clean = {True: "yes", False: f"no: {n} path{'s' if n != 1 else ''} (`git status --porcelain`)",
                 None: "n/a"}[g["clean"]]
        subject = g.get("subject") or ""
        subject = subject if len(subject) <= 60 else subject[:57] + "..."
        L.append(f"| {key.upper()} | {t['label']} | `{t['path']}` | `{(g['head'] or 'n/a')[:12]}` {subject}"
                 f" | {clean} | `{t['search_file']}` |")
    for key in ("a", "b"):
        g = res["trees"][key]["git"]
        if g["clean"] is False:
            shown = ", ".join(f"`{c}`" for c in g["changes"][:10])
            more = f" and {g['n_changes'] - 10} more" if g["n_changes"] > 10 else ""
            L.append(f"\n{key.upper()} uncommitted: {shown}{more}")
    L += ["", "B/A < 1: B is faster. Both trees get the same queries; *same results* counts queries whose "
          "top-10 ids are identical in A and B.", ""]

    L += [f"## Cold: a new process per query (`python -m search.cli search Q --index DIR --json --mode M`), "
          f"{res['cold_runs']} pairs", ""]
    L += [f"| mode | {la} s min / median / max | {lb} s min / median / max | peak MiB A / B | "
          "B/A median (IQR; min–max) | same results |", "|---|---:|---:|---:|---:|---:|"]
    for mode in res["modes"]:
        c = res["cold"].get(mode, {})
        if "ratio" not in c:
            L.append(f"| {mode} | error: {c.get('error', 'not run')} | | | | |")
            continue
        a, b, r = c["a"], c["b"], c["ratio"]
        L.append(f"| {mode} | {f3(a['min'])} / **{f3(a['median'])}** / {f3(a['max'])} | {f3(b['min'])} / "
                 f"**{f3(b['median'])}** / {f3(b['max'])} | {a['peak_mib']:.0f} / {b['peak_mib']:.0f} | "
                 f"**{f3(r['median'])}** ({f3(r['q25'])}–{f3(r['q75'])}; {f3(r['min'])}–{f3(r['max'])}) | "
                 f"{c['same_results']}/{c['n_pairs']} |" + (f" error: {c['error']}" if c.get("error") else ""))
    L += [""]

    L += [f"## Warm: one `Searcher` per process, {WARMUP} warm-up queries, then {res['n_queries']} timed, "
          f"{res['rounds']} round(s)", ""]
    L += ["| mode | round | first | A p50 ms | A p95 ms | B p50 ms | B p95 ms | B/A p50 | B/A p95 | A / B open s | "
          "same results |", "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode in res["modes"]:
        w = res["warm"].get(mode, {})
        for i, rnd in enumerate(w.get("rounds", []), 1):
            if "ratio_p50" not in rnd:
                L.append(f"| {mode} | {i} | | error: {w.get('error')} | | | | | | | |")
                continue
            a, b = rnd["a"], rnd["b"]
            L.append(f"| {mode} | {i} | {rnd['first'].upper()} | {f1(a['p50_ms'])} | {f1(a['p95_ms'])} | {f1(b['p50_ms'])} "
                     f"| {f1(b['p95_ms'])} | {f3(rnd['ratio_p50'])} | {f3(rnd['ratio_p95'])} | "
                     f"{a['open_s']:.2f} / {b['open_s']:.2f} | {rnd['same_results']}/{a['n']} |")
    L += ["", "| mode | B/A p50, median over rounds (min–max) | B/A p95, median over rounds (min–max) |",
          "|---|---:|---:|"]
    for mode in res["modes"]:
        w = res["warm"].get(mode, {})
        if "ratio_p50" not in w:
            L.append(f"| {mode} | error: {w.get('error', 'not run')} | |")
            continue
        r50, r95 = w["ratio_p50"], w["ratio_p95"]
        L.append(f"| {mode} | **{f3(r50['median'])}** ({f3(r50['min'])}–{f3(r50['max'])}) | "
                 f"{f3(r95['median'])} ({f3(r95['min'])}–{f3(r95['max'])}) |")
    L += [""]
    return "\n".join(L)


# --------------------------------------------------------------------------------------------------


_bench = None


def main(argv: list[str] | None = None) -> int:
    global _bench
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--index", type=Path, help="the index both trees search (built once, by either)")
    ap.add_argument("--a", type=Path, help="tree A: the code before the change (a checkout of this repository)")
    ap.add_argument("--b", type=Path, help="tree B: the code after the change")
    ap.add_argument("--label-a", default="A", help="name of A in the report (default: A)")
    ap.add_argument("--label-b", default="B", help="name of B in the report (default: B)")
    ap.add_argument("--cold-runs", type=int, default=10, help="cold A,B pairs per mode (default 10)")
    ap.add_argument("--warm-queries", type=int, default=200, help="timed queries per warm process (default 200)")
    ap.add_argument("--rounds", type=int, default=3, help="warm rounds per mode, A and B alternating (default 3)")
    ap.add_argument("--modes", default="hybrid,dense", help="comma-separated search modes (default hybrid,dense)")
    ap.add_argument("--order", choices=("ab", "abba"), default="ab",
                    help="ab: A first in every pair and round (default); abba: A first, then B first, alternately")
    ap.add_argument("--python", default=sys.executable, help="interpreter for both trees (default: this one)")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="the shared data folder (queries)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per child process (default 900)")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    ap.add_argument("--out", type=Path, default=None, help="write the Markdown report here (it is printed anyway)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        result = WORKERS[a.worker](json.loads(a.params))
        Path(a.result).write_text(json.dumps(result, default=str))
        return 0
    if a.index is None or a.a is None or a.b is None:
        ap.error("--index, --a and --b are required")
    for name, tree in (("--a", a.a), ("--b", a.b)):
        if not (tree / "search" / "engine.py").is_file():
            ap.error(f"{name} {tree}: not a checkout of this repository (no search/engine.py)")
    if not a.index.is_dir():
        ap.error(f"--index {a.index}: no such folder")
    modes = [m.strip() for m in a.modes.split(",") if m.strip()]
    if not modes or a.cold_runs < 1 or a.warm_queries < 1 or a.rounds < 1:
        ap.error("--modes must name a mode; --cold-runs, --warm-queries and --rounds must be at least 1")

    _bench = _bench_run()
    command = shlex.join([sys.executable, *(sys.argv if argv is None else [str(Path(__file__)), *argv])])
    workdir = Path(tempfile.mkdtemp(prefix="oncosearch-ab-"))
    index_dir = str(a.index.resolve())
    queries = _bench.load_queries(REPO, a.shared.resolve(), a.warm_queries)
    if not queries:
        ap.error(f"no queries found (bench/pubmedqa-zh, {a.shared}/bench/pubmedqa)")
    queries_file = workdir / "queries.json"
    queries_file.write_text(json.dumps(queries, ensure_ascii=False), encoding="utf-8")
    ta = Tree("a", a.label_a, a.a.resolve(), _bench, a.python, workdir)
    tb = Tree("b", a.label_b, a.b.resolve(), _bench, a.python, workdir)
    res: dict = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "command": command, "machine": _bench.machine_info(),
        "python": a.python, "load_start": _bench.loadavg(), "index": index_dir, "modes": modes, "order": a.order,
        "cold_runs": a.cold_runs, "rounds": a.rounds, "warmup": WARMUP, "k": K,
        "n_queries": len(queries), "n_queries_zh": sum(bool(CJK.search(q)) for q in queries),
        "trees": {}, "cold": {}, "warm": {},
    }
    failed = False
    try:
        for t in (ta, tb):
            sf = t.search_file()
            if not str(Path(sf).resolve()).startswith(str(t.path) + "/"):
                raise SystemExit(f"{t.label}: `import search` resolves to {sf}, not to {t.path}")
            res["trees"][t.key] = {"label": t.label, "path": str(t.path), "git": git_info(t.path), "search_file": sf}
        if ta.path == tb.path:
            ta.r.log("A and B are the same tree: this run measures the noise floor")
        for mode in modes:
            ta.r.log(f"cold {mode}: {a.cold_runs} pairs")
            res["cold"][mode] = run_cold(ta, tb, index_dir, mode, queries, a.cold_runs, a.order, a.timeout)
            ta.r.log(f"warm {mode}: {a.rounds} round(s) of {len(queries)} queries")
            res["warm"][mode] = run_warm(ta, tb, index_dir, mode, queries_file, a.rounds, a.order, a.timeout)
            failed |= "error" in res["cold"][mode] or "error" in res["warm"][mode]
    finally:
        res["load_end"] = _bench.loadavg()
        if a.json:
            a.json.parent.mkdir(parents=True, exist_ok=True)
            a.json.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False), encoding="utf-8")
        shutil.rmtree(workdir, ignore_errors=True)
    report = render(res)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(report, encoding="utf-8")
    print(report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
