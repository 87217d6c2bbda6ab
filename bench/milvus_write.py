#!/usr/bin/env python
"""Index build and update times on the storage backends: local files, Milvus with local files (a mirror
written before each switch) and Milvus alone (`--milvus-only`: no local files, a write sends only what
changed), on the same corpus, from the same warm embedding cache.

    python bench/milvus_write.py --source ../shared/corpus/pubmed21n1298.xml.gz \\
        --add ../shared/corpus/pubmed20n0014.xml.gz --cache-from ~/idx20k --workdir /tmp/mw --rounds 3
    python bench/milvus_write.py --source a.jsonl --add b.xml.gz --add-records 50 --workdir /tmp/mw
    python bench/milvus_write.py --source ... --add ... --workdir /tmp/mw --milvus-uri http://milvus.lab:19530

    用法示例（中文）：
    python bench/milvus_write.py --source ../shared/corpus/pubmed21n1298.xml.gz \\
        --add ../shared/corpus/pubmed20n0014.xml.gz --cache-from ~/idx20k --workdir /tmp/mw   # 2 万篇，本地与 Milvus
    python bench/milvus_write.py --source a.jsonl --add b.xml.gz --add-records 50 --workdir /tmp/mw  # 小规模试跑

What is timed: the real CLI (`oncosearch index build SOURCE...`, then `oncosearch index update ADD`) as a
subprocess, wall clock around each, start-up included. For Milvus the build runs with `--backend milvus
--milvus-uri URI` (and `--milvus-only` for the third backend) and the update with nothing more: the index
remembers its backend, so the update writes into Milvus only the records new to it; with local files it
also writes the whole local generation that the mirror is diffed from. Each write's `--json` summary
gives the records, the chunks embedded and, for Milvus, the report of what it wrote there (its seconds,
the record versions added, kept and retired).

Embedding is the same work on every backend, so every measured write starts from a warm cache: a
`prepare` step fills a master cache once (`index build SOURCE... ADD` on a copy of --cache-from's cache:
it embeds only what that lacks; timed, but not a figure), and each measured index folder starts with a copy
of it. A measured write that embeds anything (chunks in its summary, or new rows in its cache, which also
counts the English leg's passages) stops the benchmark: its time would not be a write's.

The update adds the first --add-records records of --add that are new to the source: not in it by id,
and not merged with it (or each other) by PMID, DOI or title, so the update adds exactly that many.
Rounds alternate the order (local first in odd rounds, Milvus alone first in even ones) and the figures are the
medians over rounds. Without --milvus-uri each round gets its own milvus-lite file in its folder (one
process at a time opens such a file; this script never does). Results: --json (with the commit, the
machine and its load) and a Markdown table (printed; --out writes it too); progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import dir_size, git_state, loadavg, machine_info, save_result  # noqa: E402  (stdlib only)

BACKENDS = ("local", "milvus", "milvus-only")
CLI_BOOT = "from search.cli import main; main()"
MIRROR_KEYS = ("records", "vectors", "added", "kept", "retired", "epoch", "seconds", "pool")


@dataclass
class Write:
    """One timed CLI write: wall seconds, the CLI's own seconds, and what its summary says it did."""

    wall_s: float
    seconds: float  # the summary's own figure: the write without interpreter start-up and imports
    index_records: int
    added: int
    embedded_chunks: int
    cache_rows_added: int  # rows new in the index's cache files (USE chunks and English passages)
    milvus: dict | None = None  # the mirror report (MIRROR_KEYS), Milvus only


@dataclass
class Run:
    """One backend in one round: its build, its update, and what it left on disk."""

    backend: str
    build: Write
    update: Write
    index_bytes: int  # the index folder after the update, cache/ excepted (both kept generations)
    milvus_lite_bytes: int | None = None
    order: int = 0  # 0: this backend wrote first in its round


class BenchError(Exception):
    """A step that leaves no figure worth reporting; main() turns it into one line and exit 1."""


# --------------------------------------------------------------------------------------------------
# the corpus: what the update adds


def pick_additions(sources: list[Path], add_file: Path, n: int) -> tuple[int, list]:
    """(records the source holds once merged, the first `n` records of `add_file` new to it).

    New means the update adds it: no id of the source, and no merge with a source record or another
    pick by PMID, DOI or title (corpus.merge: the master build reads source and picks together)."""
    from corpus.ingest import ingest
    from corpus.merge import merge_records
    from corpus.readers import read_file

    source = ingest(sources).records
    if not source:
        raise BenchError(f"no records read from {' '.join(map(str, sources))}")
    ids = {r.id for r in source}
    candidates = [r for r in read_file(add_file).records if r.id not in ids]
    merged = merge_records([*source, *candidates]).merges
    touched = {m.kept_id for m in merged} | {m.merged_id for m in merged}
    picks = [r for r in candidates if r.id not in touched][:n]
    if len(picks) < n:
        raise BenchError(f"{add_file} has {len(picks)} records new to the source, not {n}: lower --add-records")
    return len(source), picks


def write_jsonl(records: list, path: Path) -> Path:
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# the embedding cache


def copy_cache(src: Path, dst: Path) -> None:
    """Copy each cache file of `src` into `dst` with SQLite's backup (a consistent copy, WAL included)."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.glob("*.sqlite")):
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        target = sqlite3.connect(dst / path.name)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()


def cache_rows(cache_dir: Path) -> dict[str, int]:
    """Vectors per cache file (one file per model)."""
    rows = {}
    for path in sorted(cache_dir.glob("*.sqlite")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows[path.name] = conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
        finally:
            conn.close()
    return rows


# --------------------------------------------------------------------------------------------------
# the CLI


def cli(python: str, args: list[str | Path]) -> tuple[float, dict]:
    """Run `oncosearch ARGS --json --quiet` in a child process: (wall seconds, its JSON summary)."""
    cmd = [python, "-c", CLI_BOOT, *map(str, args), "--json", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k != "ONCOSEARCH_CRASH_AT"}
    env["PYTHONPATH"] = str(ROOT)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 3):  # 3: done, some input records skipped (listed in the summary)
        tail = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        raise BenchError(f"`oncosearch {' '.join(map(str, args))}` failed (exit {proc.returncode}): {tail}")
    return wall, json.loads(proc.stdout)


def timed_write(python: str, args: list[str | Path], index_dir: Path, what: str) -> Write:
    """One measured write: timed, and refused if it embedded anything (the cache was meant to hold it all)."""
    before = cache_rows(index_dir / "cache")
    wall, summary = cli(python, [*args, "--index", index_dir])
    grown = sum(cache_rows(index_dir / "cache").values()) - sum(before.values())
    if summary["embedded_chunks"] or grown:
        raise BenchError(f"{what} embedded {summary['embedded_chunks']} chunks ({grown} new cache rows): the master "
                         "cache does not cover it, so its time would include embedding; nothing reported")
    mirror = summary.get("milvus")
    return Write(wall_s=round(wall, 3), seconds=summary["seconds"], index_records=summary["index_records"],
                 added=summary["added"], embedded_chunks=summary["embedded_chunks"], cache_rows_added=grown,
                 milvus={k: mirror.get(k) for k in MIRROR_KEYS} if mirror else None)


DROP = """
import sys
from pathlib import Path
from index.storage.layout import IndexLayout
from index.storage.lock import WriterLock
from index.storage.milvus.mirrors import prune
from index.storage.milvus.remember import forget
index_dir = Path(sys.argv[1])
with WriterLock(IndexLayout(index_dir).lock_file, wait=60):
    forget(index_dir)
    prune(index_dir)
"""


def drop_mirrors(python: str, index_dir: Path) -> None:
    """Drop what the index at `index_dir` wrote into a Milvus that outlives the round (a server, or a
    milvus-lite file given with --milvus-uri): it forgets its backend, then prunes every mirror and pool.
    In a child process: milvus-lite keeps a file open in a process until it exits, and the next
    backend's writes open the same file."""
    proc = subprocess.run([python, "-c", DROP, str(index_dir)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"dropping what {index_dir} wrote into Milvus failed: {proc.stderr.strip()[-500:]}")


def path_bytes(path: Path) -> int | None:
    if path.is_file():
        return path.stat().st_size
    return dir_size(path) if path.is_dir() else None


# --------------------------------------------------------------------------------------------------
# rounds


def run_backend(backend: str, python: str, sources: list[Path], add_jsonl: Path, folder: Path, master_cache: Path,
                uri: str | None, log) -> Run:
    """A fresh index folder (with the master cache) built from the source, then updated with the additions."""
    index_dir = folder / f"{backend}-index"
    copy_cache(master_cache, index_dir / "cache")
    db = folder / f"{backend}.db" if backend != "local" and uri is None else None
    target = ["--backend", "milvus", "--milvus-uri", uri or db] if backend != "local" else []
    target += ["--milvus-only"] if backend == "milvus-only" else []
    log(f"{backend}: build")
    build = timed_write(python, ["index", "build", *sources, *target], index_dir, f"the {backend} build")
    log(f"{backend}: build {build.wall_s:.1f} s; update")
    update = timed_write(python, ["index", "update", add_jsonl], index_dir, f"the {backend} update")
    log(f"{backend}: update {update.wall_s:.1f} s")
    if backend != "local" and (build.milvus is None or update.milvus is None):
        raise BenchError("a Milvus write's summary holds no mirror report: did it write into Milvus?")
    return Run(backend, build, update, dir_size(index_dir, exclude=("cache",)),
               path_bytes(db) if db is not None else None)


def summarise(runs: list[Run]) -> dict:
    """Medians over rounds per backend, and each Milvus backend's over local's."""
    out: dict = {}
    for backend in BACKENDS:
        mine = [r for r in runs if r.backend == backend]
        b: dict = {"build_s": statistics.median(r.build.wall_s for r in mine),
                   "update_s": statistics.median(r.update.wall_s for r in mine),
                   "build_runs_s": [r.build.wall_s for r in mine], "update_runs_s": [r.update.wall_s for r in mine],
                   "build_own_s": statistics.median(r.build.seconds for r in mine),
                   "update_own_s": statistics.median(r.update.seconds for r in mine),
                   "index_bytes": statistics.median(r.index_bytes for r in mine)}
        if backend != "local":
            b["build_mirror_s"] = statistics.median(r.build.milvus["seconds"] for r in mine)
            b["update_mirror_s"] = statistics.median(r.update.milvus["seconds"] for r in mine)
            lite = [r.milvus_lite_bytes for r in mine if r.milvus_lite_bytes is not None]
            b["milvus_lite_bytes"] = statistics.median(lite) if lite else None
        out[backend] = b
    ratio = {backend: {step: out[backend][f"{step}_s"] / out["local"][f"{step}_s"] for step in ("build", "update")}
             for backend in BACKENDS if backend != "local"}
    return {"backends": out, "ratio": ratio}


# --------------------------------------------------------------------------------------------------
# report


def mib(n: float | None) -> str:
    return "–" if n is None else f"{n / 2**20:,.1f}"


def markdown(result: dict) -> str:
    c, b, r = result["corpus"], result["backends"], result["ratio"]
    loc = b["local"]
    last = result["rounds"][-1]["runs"]
    kind = result["milvus_uri_kind"]
    lines = [
        f"### Index writes, local files vs Milvus ({kind}): {c['source_records']:,} records, "
        f"then {c['add_records']:,} added",
        "",
        f"Wall seconds of `oncosearch index build` (the source) and `index update` (the additions) as "
        f"child processes, start-up included; median of {result['rounds_n']} round(s), the order alternating. "
        f"Every measured write starts from a warm embedding cache and embedded nothing (0 chunks, 0 new cache "
        f"rows): these are writes, not embedding, which is the same work on every backend "
        f"(filling the cache took {result['prepare']['wall_s']:.0f} s, not counted).",
        "",
        "| backend | build s | of which Milvus s | update s | of which Milvus s | index folder MiB | milvus-lite MiB |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| local | {loc['build_s']:.1f} | – | {loc['update_s']:.1f} | – | {mib(loc['index_bytes'])} | – |",
    ]
    for backend in BACKENDS[1:]:
        m = b[backend]
        lines.append(f"| {backend} | {m['build_s']:.1f} | {m['build_mirror_s']:.1f} | {m['update_s']:.1f} | "
                     f"{m['update_mirror_s']:.1f} | {mib(m['index_bytes'])} | {mib(m['milvus_lite_bytes'])} |")
    for backend in BACKENDS[1:]:
        lines.append(f"| {backend} / local | {r[backend]['build']:.2f}× | | {r[backend]['update']:.2f}× | | | |")
    lines.append("")
    for backend in BACKENDS[1:]:
        u, w = last[backend]["update"]["milvus"], last[backend]["build"]["milvus"]
        lines.append(f"{backend}: the update wrote {u['added']:,} record versions "
                     f"({sum(u['vectors'].values()):,} vectors), kept {u['kept']:,}, retired {u['retired']:,}; "
                     f"the build wrote {sum(w['vectors'].values()):,} vectors.")
    lines += [
        "",
        "Index folders without cache/, after the update (the current and the previous generation).",
        "",
        f"commit {result['commit']}{'' if result['clean'] else ' (uncommitted changes)'}, "
        f"{result['machine'].get('cores')} cores, load {' '.join(map(str, result['load_start']))} at the start, "
        f"{result['seconds']:.0f} s in all.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", type=Path, nargs="+", required=True, help="the corpus the build indexes")
    ap.add_argument("--add", type=Path, required=True, help="a file whose records the update adds")
    ap.add_argument("--add-records", type=int, default=500, help="records the update adds (default 500)")
    ap.add_argument("--cache-from", type=Path, default=None,
                    help="an index folder whose cache/ holds embeddings of the source (else prepare embeds all)")
    ap.add_argument("--workdir", type=Path, required=True, help="an empty or new folder for the indexes")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of both backends (default 1)")
    ap.add_argument("--milvus-uri", default=None,
                    help="a Milvus server or milvus-lite file for every round; default a milvus-lite file per round")
    ap.add_argument("--python", default=sys.executable, help="the interpreter the CLI runs in")
    ap.add_argument("--keep", action="store_true", help="keep the index folders (and their mirrors)")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "results-milvus-write.json")
    ap.add_argument("--out", type=Path, default=None, help="also write the Markdown table here")
    a = ap.parse_args(argv)
    if a.rounds < 1 or a.add_records < 1:
        ap.error("--rounds and --add-records must be at least 1")
    for path in [*a.source, a.add]:
        if not path.exists():
            ap.error(f"{path}: no such file")
    if a.cache_from is not None and not (a.cache_from / "cache").is_dir():
        ap.error(f"--cache-from {a.cache_from}: no cache/ folder there")
    if a.workdir.exists() and any(a.workdir.iterdir()):
        ap.error(f"--workdir {a.workdir}: not empty")

    from corpus.errors import OncosearchError
    from index.storage.milvus.connect import is_server

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    work = a.workdir.resolve()
    sources = [p.resolve() for p in a.source]
    uri = a.milvus_uri if a.milvus_uri is None or is_server(a.milvus_uri) else str(Path(a.milvus_uri).resolve())
    result: dict = {"command": " ".join(["python", "bench/milvus_write.py", *(argv or sys.argv[1:])]),
                    "date": datetime.now(UTC).isoformat(timespec="seconds"), **git_state(ROOT),
                    "machine": machine_info(), "load_start": loadavg(), "rounds_n": a.rounds,
                    "milvus_uri_kind": "server" if uri and is_server(uri) else "milvus-lite",
                    "milvus_uri": uri or "a milvus-lite file per round"}
    try:
        work.mkdir(parents=True, exist_ok=True)
        log(f"reading {' '.join(map(str, sources))} and {a.add}")
        n_source, picks = pick_additions(sources, a.add, a.add_records)
        add_jsonl = write_jsonl(picks, work / "add.jsonl")
        result["corpus"] = {"source": [str(p) for p in sources], "source_records": n_source, "add": str(a.add),
                            "add_records": len(picks), "add_jsonl": str(add_jsonl)}

        master = work / "master"
        if a.cache_from is not None:
            copy_cache(a.cache_from / "cache", master / "cache")
        rows = cache_rows(master / "cache") if a.cache_from is not None else {}
        log(f"prepare: {sum(rows.values()):,} vectors copied from {a.cache_from / 'cache'}" if a.cache_from
            else "prepare: no --cache-from: the master index embeds everything")
        wall, summary = cli(a.python, ["index", "build", *sources, add_jsonl, "--index", master])
        result["prepare"] = {"cache_from": str(a.cache_from) if a.cache_from else None, "wall_s": round(wall, 3),
                             "embedded_chunks": summary["embedded_chunks"], "rows_before": rows,
                             "rows_after": cache_rows(master / "cache")}
        log(f"prepare: {wall:.1f} s, {summary['embedded_chunks']} chunks embedded")

        rounds, runs = [], []
        for n in range(1, a.rounds + 1):
            folder = work / f"round-{n}"
            folder.mkdir()
            order = BACKENDS if n % 2 else BACKENDS[::-1]
            log(f"round {n}: {' then '.join(order)}")
            mine = {}
            for i, backend in enumerate(order):
                run = run_backend(backend, a.python, sources, add_jsonl, folder, master / "cache", uri, log)
                run.order = i
                mine[backend] = run
                if uri is not None and not a.keep and backend != "local":
                    drop_mirrors(a.python, folder / f"{backend}-index")
            runs += mine.values()
            rounds.append({"round": n, "order": list(order), "runs": {k: asdict(v) for k, v in mine.items()}})
            if not a.keep:
                shutil.rmtree(folder)
        if not a.keep:
            shutil.rmtree(master)
    except (BenchError, OncosearchError) as e:
        raise SystemExit(f"milvus_write: {e}") from None
    result["rounds"] = rounds
    result.update(summarise(runs))
    result["seconds"] = time.perf_counter() - started
    result["load_end"] = loadavg()
    save_result(result, a.json, markdown(result), a.out)


if __name__ == "__main__":
    main()
