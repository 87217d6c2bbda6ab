"""kill -9 at many points of `index build` / `index update`: nothing is ever lost or doubled.

Deterministic kill points come from ONCOSEARCH_CRASH_AT=<stage>:<n> (index/storage/crashpoints.py); a few
more are timed kills at delays spread over a measured run, each checked to have landed while the
process was still running (a run that finished first is repeated with an earlier kill). After every
kill: `index check` passes on what is there (or there is no index yet, and `search` says so with
exit 1), `search` works, the current generation holds exactly the records of the last completed
run, and the next run finishes the job. Phases:

1. no index yet, the first build (A1 + A2) killed at 5 points, then completed;
2. an update adding B killed at 15 points (2 inside embedding: mid-transaction in the cache, and after
   the last embedding batch is committed), then completed;
3. an update with --prune after A2's file was deleted, killed at 3 timed points, then completed.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from safety_helpers import cli, cli_cmd, cli_env, index_ids, summary_of

PHASE1 = ["store:5", "faiss:2", "manifest:1", "rename:1", "switch-tmp:1"]
PHASE2 = ["embed-commit:1", "embed-batch:LAST", "store:1", "store:20", "store-commit:1", "faiss:1", "faiss:2",
          "lexical:1", "fsync:1", "manifest:1", "rename:1", "switch-tmp:1", "clean:1", "clean:2", "switch:1"]
EMBED_BATCH = 16
TIMED = 3


def _check_and_search(index: Path, cache_home: Path) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """`index check` and `search` side by side (two cores)."""
    env = cli_env(None, cache_home)
    procs = [subprocess.Popen(cli_cmd(*args, "--index", index), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
             for args in (("index", "check"), ("search", "tumour immunotherapy", "-k", "3", "--json"))]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return out[0], out[1]


def _assert_sound(index: Path, cache_home: Path, expected: set[str] | list[set[str]], where: str) -> None:
    check, search = _check_and_search(index, cache_home)
    assert check.returncode == 0, f"{where}: index check failed: {check.stderr}"
    assert search.returncode == 0 and '"results"' in search.stdout, f"{where}: search failed: {search.stderr}"
    assert "Traceback" not in search.stderr
    ids = index_ids(index)
    assert len(ids) == len(set(ids)), f"{where}: doubled records"
    allowed = expected if isinstance(expected, list) else [expected]
    assert set(ids) in allowed, f"{where}: {len(ids)} records, expected {' or '.join(str(len(e)) for e in allowed)}"


def _assert_no_index(index: Path, cache_home: Path, where: str) -> None:
    check, search = _check_and_search(index, cache_home)
    assert check.returncode == 1 and "no index" in check.stderr, f"{where}: {check.stderr}"
    assert search.returncode == 1, f"{where}: {search.stdout} {search.stderr}"
    assert search.stderr.startswith("oncosearch: error: no index"), f"{where}: {search.stderr}"
    assert "Traceback" not in search.stderr


def _assert_tidy(index: Path) -> None:
    """After a completed run: current + previous generation, no leftovers of the crashes."""
    gens = sorted(p.name for p in (index / "generations").iterdir())
    assert not [g for g in gens if g.startswith(".tmp-")], gens
    assert len(gens) <= 2, gens
    assert (index / "CURRENT").read_text().strip() in gens
    assert not list(index.glob("CURRENT.tmp.*"))


def _killed_at(point: str, args: list, index: Path, cache_home: Path) -> None:
    env = {"ONCOSEARCH_CRASH_AT": point, "ONCOSEARCH_EMBED_BATCH": str(EMBED_BATCH)}
    proc = cli(*args, "--index", index, "--quiet", env=env, cache_home=cache_home)
    assert proc.returncode == -signal.SIGKILL, f"crash point {point} never reached: rc {proc.returncode} {proc.stderr}"


def _to_embed(files: list[Path], index: Path) -> int:
    """Distinct chunk texts of `files` that the index's cache does not hold yet."""
    from corpus.readers import read_file
    from index.chunking import chunk_record

    keys = {c.key for f in files for r in read_file(f).records for part in chunk_record(r) for c in part}
    conn = sqlite3.connect(_use_cache(index))
    try:
        cached = {r[0] for r in conn.execute("SELECT key FROM vectors")}
    finally:
        conn.close()
    return len(keys - cached)


def _use_cache(index: Path) -> Path:
    """The USE embedding cache (the English leg's MiniLM vectors have a cache file of their own)."""
    from index.models.cache import EmbeddingCache
    from index.models.encoders import USE_MODEL_ID

    path = EmbeddingCache.path_for(index / "cache", USE_MODEL_ID)
    assert path.exists(), sorted(p.name for p in (index / "cache").iterdir())
    return path


def _cache_ok(index: Path) -> int:
    conn = sqlite3.connect(_use_cache(index))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT count(*) FROM vectors").fetchone()[0]
    finally:
        conn.close()


def test_kill_anywhere_loses_nothing(tmp_path, corpus, base_index):
    import shutil

    start = time.perf_counter()
    index = tmp_path / "index"
    cache_home = tmp_path / "xdg-cache"
    shutil.copytree(base_index / "cache", index / "cache")  # A's vectors: phase 1 needs no model
    a = corpus.union("A1", "A2")
    ab = corpus.union("A1", "A2", "B")
    kills = 0

    # Phase 1: the first build dies before there is any index.
    build = ["index", "build", corpus.files["A1"], corpus.files["A2"]]
    for point in PHASE1:
        _killed_at(point, build, index, cache_home)
        kills += 1
        _assert_no_index(index, cache_home, f"phase 1, killed at {point}")
    s = summary_of(cli(*build, "--index", index, "--json", cache_home=cache_home))
    assert s["index_records"] == 15 and s["embedded_chunks"] == 0
    _assert_sound(index, cache_home, a, "phase 1 completed")
    _assert_tidy(index)

    # Phase 2: updates adding B die; the last good generation (A) stays current and searchable.
    update = ["index", "update", corpus.files["A1"], corpus.files["A2"], corpus.files["B"]]
    cached_before = _cache_ok(index)
    missing = _to_embed([corpus.files["B"]], index)
    last_batch = -(-missing // EMBED_BATCH)
    assert last_batch >= 3
    for point in PHASE2:
        point = point.replace("LAST", str(last_batch))  # all of B embedded: later runs need no model
        _killed_at(point, update, index, cache_home)
        kills += 1
        # before the switch: the old records exactly; a cleanup kill may come before the switch
        # (leftovers of earlier kills) or after it (old generations); after the switch: the new ones
        expected = ab if point == "switch:1" else [a, ab] if point.startswith("clean") else a
        _assert_sound(index, cache_home, expected, f"phase 2, killed at {point}")
        if point == "embed-commit:1":
            assert _cache_ok(index) == cached_before  # the uncommitted batch rolled back
        elif point.startswith("embed-batch"):
            assert _cache_ok(index) == cached_before + missing  # committed batches survive
    t0 = time.perf_counter()
    s = summary_of(cli(*update, "--index", index, "--json", cache_home=cache_home))
    full_run = time.perf_counter() - t0
    assert (s["index_records"], s["added"], s["unchanged"], s["embedded_chunks"]) == (27, 0, 27, 0)
    _assert_sound(index, cache_home, ab, "phase 2 completed")
    _assert_tidy(index)

    # Phase 3: timed kills over a pruning update (A2's file deleted: its 3 records must go).
    corpus_a2 = corpus.files["A2"]
    moved = corpus_a2.with_suffix(".gone")
    corpus_a2.rename(moved)
    try:
        prune = ["index", "update", corpus.files["A1"], corpus.files["B"], "--prune", "--index", index, "--quiet"]
        expect_after = ab - set(corpus.ids["A2"])
        for i in range(TIMED):
            delay = full_run * (0.35 + 0.6 * i / (TIMED - 1))
            for _ in range(4):  # a run that finished before its kill proves nothing: kill the next one sooner
                p = subprocess.Popen(cli_cmd(*prune), env=cli_env(None, cache_home), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep(delay)
                p.send_signal(signal.SIGKILL)
                p.wait()
                if p.returncode == -signal.SIGKILL:
                    break
                delay /= 2
            assert p.returncode == -signal.SIGKILL, f"timed kill {i}: every run finished before its kill"
            kills += 1
            ids = set(index_ids(index))
            assert ids in (ab, expect_after), f"timed kill after {delay:.2f}s: {len(ids)} records"
            _assert_sound(index, cache_home, ids, f"timed kill after {delay:.2f}s")
        s = summary_of(cli(*prune, "--json", cache_home=cache_home))
        assert s["index_records"] == 24 and s["embedded_chunks"] == 0
        _assert_sound(index, cache_home, expect_after, "phase 3 completed")
        _assert_tidy(index)
    finally:
        moved.rename(corpus_a2)
    _cache_ok(index)
    assert kills >= 20
    print(f"\n{kills} kill points survived in {time.perf_counter() - start:.0f}s (full no-embed update {full_run:.2f}s)")
