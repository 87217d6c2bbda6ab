#!/usr/bin/env python
"""Requests/s and latency of `oncosearch serve` over HTTP, beside the engine's own warm latency.

    python bench/http_load.py INDEX_DIR [--seconds 20] [--clients 1,8,32] [--workers 1] [--new-records 20]
                              [--json OUT.json]

In one run, on one machine (client and server share its cores, so the figures are a floor):

1. the engine in process, warm: `Searcher.search(q, k=10)` one query after another (what the
   CLI's search does once loaded), p50/p99 — the figure the HTTP overhead is measured against;
2. `oncosearch serve --quiet` as its own process on 127.0.0.1 over a copy of INDEX_DIR, and N
   clients (asyncio + httpx, keep-alive) each sending `GET /api/search?q=...&k=10` back to back
   for `--seconds`: requests/s, p50/p99, failed requests;
3. a generation switch under load: with 8 clients running, `oncosearch index update` adds
   `--new-records` PubMed records the index lacks (read from ../shared/corpus/pubmed20n0014.xml.gz,
   so the update embeds them: a nightly update in small); requests/s, p50/p99 and failures from the
   update's start until the server answers from the new generation, and how long after CURRENT
   was switched the first answer from the new generation came (the server opens and warms it
   on a background thread meanwhile).

Queries: real PubMedQA and PubMedQA-zh questions (`bench.run.load_queries`), quotes removed so
that they stay plain text under the query syntax.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
sys.path.insert(0, str(ROOT))

from bench.run import git_state, load_queries, loadavg, machine_info  # noqa: E402


def percentiles(ms: list[float]) -> dict:
    ordered = sorted(ms)
    if not ordered:
        return {"n": 0}
    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1)}


def engine_warm(index: Path, queries: list[str]) -> dict:
    """The engine in this process, after warm-up: one query after another, as the CLI's search."""
    from search.engine import Searcher

    searcher = Searcher(index)
    for q in queries[:10]:
        searcher.search(q, k=10)
    times = []
    for q in queries:
        t = time.perf_counter()
        searcher.search(q, k=10)
        times.append((time.perf_counter() - t) * 1000)
    searcher.close()
    return percentiles(times)


class Load:
    """`clients` keep-alive clients sending searches back to back until `stop` is set."""

    def __init__(self, url: str, queries: list[str], clients: int):
        self.url, self.queries, self.clients = url, queries, clients
        self.samples: list[tuple[float, float, int, str]] = []  # (end time, ms, status, generation)
        self.errors: list[str] = []
        self.stop = asyncio.Event()

    async def client(self, n: int) -> None:
        import httpx

        async with httpx.AsyncClient(base_url=self.url, timeout=60) as http:
            i = n * 7
            while not self.stop.is_set():
                q = self.queries[i % len(self.queries)]
                i += 1
                t = time.perf_counter()
                try:
                    r = await http.get("/api/search", params={"q": q, "k": 10})
                    status, gen = r.status_code, r.headers.get("x-oncosearch-generation", "")
                    if status != 200:
                        self.errors.append(f"{status}: {r.text[:120]}")
                except httpx.HTTPError as e:
                    status, gen = 0, ""
                    self.errors.append(repr(e))
                end = time.perf_counter()
                self.samples.append((end, (end - t) * 1000, status, gen))

    async def run(self, seconds: float | None = None) -> None:
        tasks = [asyncio.create_task(self.client(n)) for n in range(self.clients)]
        if seconds is not None:
            await asyncio.sleep(seconds)
            self.stop.set()
        await asyncio.gather(*tasks)

    def window(self, start: float, end: float) -> dict:
        inside = [s for s in self.samples if start <= s[0] <= end]
        out = percentiles([s[1] for s in inside])
        out["requests_per_s"] = round(len(inside) / (end - start), 1) if end > start else None
        out["failed"] = sum(1 for s in inside if s[2] != 200)
        return out


def serve(index: Path, port: int, log: Path, workers: int = 1) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSEARCH_")} | {"PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "search.cli", "serve", "--index", str(index), "--port", str(port),
               "--workers", str(workers), "--quiet"]
    with open(log, "w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"oncosearch serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit("oncosearch serve did not become healthy")


async def steady(url: str, queries: list[str], clients: int, seconds: float) -> dict:
    warm = Load(url, queries, clients)
    await warm.run(2.0)  # every connection open and every worker thread started
    load = Load(url, queries, clients)
    start = time.perf_counter()
    await load.run(seconds)
    out = load.window(start, time.perf_counter())
    out["errors"] = load.errors[:5]
    return out


async def during_switch(url: str, queries: list[str], index: Path, new_file: Path, clients: int = 8) -> dict:
    import httpx

    load = Load(url, queries, clients)
    runner = asyncio.create_task(load.run())
    await asyncio.sleep(3.0)
    old = (index / "CURRENT").read_text().strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSEARCH_")} | {"PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    update = await asyncio.create_subprocess_exec(sys.executable, "-m", "search.cli", "index", "update", str(new_file),
                                                  "--index", str(index), "--quiet", "--json", cwd=ROOT, env=env,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await update.communicate()
    written = time.perf_counter()
    if update.returncode != 0:
        raise SystemExit(f"index update exited {update.returncode}: {err.decode()[-2000:]}")
    new = (index / "CURRENT").read_text().strip()
    switch_at = (index / "CURRENT").stat().st_mtime - (time.time() - time.perf_counter())  # on the perf clock
    while not any(s[3] == new for s in load.samples[-clients:]):
        await asyncio.sleep(0.05)
    first_new = min(s[0] for s in load.samples if s[3] == new)
    switched = time.perf_counter()
    await asyncio.sleep(2.0)
    load.stop.set()
    await runner
    async with httpx.AsyncClient(base_url=url) as http:
        health = (await http.get("/healthz")).json()
    result = load.window(start, switched)
    result.update({"clients": clients, "update_s": round(written - start, 1), "new_generation_answering_after_switch_s":
                   round(first_new - switch_at, 2), "old": old, "new": new, "health_after": health.get("generation"),
                   "failed_whole_run": sum(1 for s in load.samples if s[2] != 200), "errors": load.errors[:5],
                   "added": json.loads(out)["added"]})
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the worker processes of --workers N), in MB."""
    def own(p: int) -> float:
        try:
            with open(f"/proc/{p}/status") as f:
                return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
        except (OSError, StopIteration):
            return 0.0

    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return round(own(pid) + sum(own(c) for c in children), 1)


def new_records_file(folder: Path, n: int, index: Path) -> Path:
    from corpus import read_file
    from search.engine import Searcher

    searcher = Searcher(index)
    fresh = [r for r in read_file(SHARED / "corpus" / "pubmed20n0014.xml.gz").records
             if r.abstract and searcher.get(r.id) is None][:n]
    searcher.close()
    path = folder / "new.jsonl"
    path.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in fresh), encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("index", type=Path)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--new-records", type=int, default=20)
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument("--workers", type=int, default=1, help="oncosearch serve --workers")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    queries = [q.replace('"', " ") for q in load_queries(ROOT, SHARED, args.queries)]
    result = {"command": " ".join(["python", "bench/http_load.py", *sys.argv[1:]]), **git_state(ROOT),
              "machine": machine_info(), "loadavg_start": loadavg(), "queries": len(queries)}
    with tempfile.TemporaryDirectory(prefix="oncosearch-http-") as tmp:
        folder = Path(tmp)
        index = folder / "index"
        shutil.copytree(args.index, index)
        new_file = new_records_file(folder, args.new_records, index)
        print("engine in process, warm ...", file=sys.stderr)
        result["engine_warm"] = engine_warm(index, queries)
        print(f"  p50 {result['engine_warm']['p50_ms']} ms", file=sys.stderr)
        server = serve(index, args.port, folder / "serve.log", args.workers)
        url = f"http://127.0.0.1:{args.port}"
        try:
            result["http"] = {}
            for clients in (int(c) for c in args.clients.split(",")):
                print(f"{clients} client(s), {args.seconds:.0f} s ...", file=sys.stderr)
                result["http"][str(clients)] = r = asyncio.run(steady(url, queries, clients, args.seconds))
                print(f"  {r['requests_per_s']} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
                      f"{r['failed']} failed", file=sys.stderr)
            print("8 clients through an index update ...", file=sys.stderr)
            result["switch"] = s = asyncio.run(during_switch(url, queries, index, new_file))
            print(f"  update {s['update_s']} s; {s['requests_per_s']} req/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} "
                  f"ms, {s['failed']} failed; the new generation answered {s['new_generation_answering_after_switch_s']} s "
                  "after CURRENT was switched", file=sys.stderr)
            result["server_rss_mb"] = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    one = result["http"].get("1")
    if one:
        result["http_overhead_p50_ms"] = round(one["p50_ms"] - result["engine_warm"]["p50_ms"], 1)
    result["loadavg_end"] = loadavg()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
