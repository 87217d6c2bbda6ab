"""`index build/update --backend milvus`: the mirror is written before the switch, kills anywhere
leave searches working, the next run converges, and nothing is left behind in Milvus.

Every run is a real `oncosearch` process on a milvus-lite file (a file serves one process at a
time, so checks run one after another). The corpus and base index are tests/safety's (A1 + A2).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from safety_helpers import cli, cli_env, index_ids, summary_of

pytest.importorskip("pymilvus", reason="the cluster extra (pip install 'oncosearch[cluster]') is not installed")

pytestmark = pytest.mark.slow


def _generations(index: Path) -> set[str]:
    return {p.name for p in (index / "generations").iterdir() if not p.name.startswith(".tmp-")}


LIST_MIRRORS = """
import json, sys
from index.storage.milvus import schema
from index.storage.milvus.connect import connect
client = connect(sys.argv[1])
names = set(client.list_collections())
found, epochs = {}, {}
for stem in {n.rsplit("_", 1)[0] for n in names if not n.startswith(schema.PREFIX + "_pool_")}:
    if stem + "_generation" in names:  # oncosearch_<generation>_generation
        props = client.describe_collection(stem + "_generation").get("properties") or {}
        found[props.get(schema.GENERATION) or stem] = bool(props.get(schema.COMPLETE))
        if props.get(schema.COMPLETE):
            epochs.setdefault(props[schema.POOL], []).append(int(props[schema.EPOCH]))
    else:
        found[stem] = False  # a collection of no generation
pools = {}
for name in sorted(n for n in names if n.startswith(schema.PREFIX + "_pool_")):
    client.load_collection(name)
    seen = " or ".join(f"({schema.alive_at(e)})" for e in epochs.get(name.rsplit("_", 1)[0], [])) or "serial < 0"
    count = lambda f: client.query(name, filter=f, output_fields=["count(*)"])[0]["count(*)"]
    pools[name] = {"rows": count(""), "unseen": count(f"not ({seen})")}
print(json.dumps({"generations": found, "pools": pools}))
"""


def _milvus_state(db: Path) -> dict:
    """Read by another process: milvus-lite keeps a file open in a process until it exits."""
    proc = subprocess.run([sys.executable, "-c", LIST_MIRRORS, str(db)], env=cli_env(), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _milvus_generations(db: Path) -> dict[str, bool]:
    """Each generation with collections in the milvus-lite file -> whether its mirror is complete."""
    return _milvus_state(db)["generations"]


def _ledger(index: Path) -> set[str]:
    path = index / "milvus-mirrors.json"
    return {e["generation"] for e in json.loads(path.read_text())["mirrors"]} if path.exists() else set()


def _assert_sound(index: Path, cache: Path, expected: list[set[str]], where: str) -> None:
    """`index check` passes, a search answers without a traceback from whatever the index reads,
    and the current generation holds one of the expected record sets, none doubled."""
    check = cli("index", "check", "--index", index, cache_home=cache)
    assert check.returncode == 0, f"{where}: index check failed: {check.stderr}"
    search = cli("search", "tumour immunotherapy", "-k", "3", "--json", "--index", index, cache_home=cache)
    assert search.returncode == 0 and json.loads(search.stdout)["results"], f"{where}: search failed: {search.stderr}"
    assert "Traceback" not in search.stderr + check.stderr
    ids = index_ids(index)
    assert len(ids) == len(set(ids)), f"{where}: doubled records"
    assert set(ids) in expected, f"{where}: {len(ids)} records"


def _assert_tidy(index: Path, db: Path) -> None:
    """After a completed run: Milvus holds complete mirrors of exactly the local generations kept,
    CURRENT's among them, and the index lists exactly those."""
    present = _generations(index)
    state = _milvus_state(db)
    assert state["generations"] == dict.fromkeys(present, True)
    assert _ledger(index) == present
    # the vector pool holds only rows a kept mirror sees: what killed runs wrote and what retired
    # versions left behind is gone
    assert state["pools"] and all(p["rows"] > 0 and p["unseen"] == 0 for p in state["pools"].values()), state
    assert (index / "CURRENT").read_text().strip() in present


def _killed(point: str, args: list, index: Path, cache: Path) -> None:
    proc = cli(*args, "--index", index, "--quiet", env={"ONCOSEARCH_CRASH_AT": point}, cache_home=cache)
    assert proc.returncode == -signal.SIGKILL, f"crash point {point} never reached: rc {proc.returncode} {proc.stderr}"


def test_kill_9_anywhere_in_a_milvus_write_loses_nothing_and_the_next_run_converges(fresh_index, corpus, tmp_path):
    index, db, cache = fresh_index, tmp_path / "lab.db", tmp_path / "cache"
    a, ab, abc = corpus.union("A1", "A2"), corpus.union("A1", "A2", "B"), corpus.union("A1", "A2", "B", "C")
    to_milvus = ["index", "update", corpus.files["B"], "--backend", "milvus", "--milvus-uri", db]

    # 1. the first write to Milvus: until it completes, the index reads its local files
    for point in ("mirror:1", "mirror:4", "mirrored:1"):
        _killed(point, to_milvus, index, cache)
        assert not (index / "milvus.json").exists() and set(index_ids(index)) == a  # not switched
        _assert_sound(index, cache, [a], f"first write, killed at {point}")
    _killed("switch:1", to_milvus, index, cache)  # switched, but the backend not yet remembered
    _assert_sound(index, cache, [ab], "first write, killed at switch:1")
    done = summary_of(cli(*to_milvus, "--index", index, "--json", "--quiet", cache_home=cache))
    assert done["milvus"]["generation"] == done["generation"] and done["index_records"] == len(ab)
    assert json.loads((index / "milvus.json").read_text()) == {"backend": "milvus", "uri": str(db)}
    _assert_tidy(index, db)

    # 2. an index that reads Milvus: an update adding C killed anywhere
    update = ["index", "update", corpus.files["C"]]
    for point in ("mirror:1", "mirror:2", "mirror:5", "mirrored:1", "switch-tmp:1", "switch:1", "prune:1"):
        _killed(point, update, index, cache)
        _assert_sound(index, cache, [ab, abc], f"update, killed at {point}")
        assert _milvus_generations(db)[(index / "CURRENT").read_text().strip()]  # what CURRENT names is complete
    done = summary_of(cli(*update, "--index", index, "--json", "--quiet", cache_home=cache))
    assert done["index_records"] == len(abc) and done["milvus"]["generation"] == done["generation"]
    _assert_sound(index, cache, [abc], "after the last update")
    _assert_tidy(index, db)  # the mirrors of the killed runs and of superseded generations are dropped


def test_a_milvus_that_does_not_answer_is_tried_within_wait_then_one_line_and_nothing_switched(fresh_index, corpus,
                                                                                              tmp_path):
    index, cache = fresh_index, tmp_path / "cache"
    before = (index / "CURRENT").read_text().strip()
    proc = cli("index", "update", corpus.files["C"], "--index", index, "--backend", "milvus",
               "--milvus-uri", "http://127.0.0.1:1", "--wait", "3", cache_home=cache)
    assert proc.returncode == 1, proc.stderr
    # tried again after 1 s (and 2 s, when a failed connect is quick enough to leave time for it)
    assert "trying again in 1 s (--wait)" in proc.stderr and "trying again in 4 s" not in proc.stderr
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("oncosearch: error: Milvus at http://127.0.0.1:1: connecting failed")
    assert last.endswith("nothing was switched: searches read what they read before")
    assert (index / "CURRENT").read_text().strip() == before and not (index / "milvus.json").exists()
    assert not (index / "milvus-mirrors.json").exists()  # nothing was created there, so nothing is listed
    _assert_sound(index, cache, [corpus.union("A1", "A2")], "after the failed write")


def test_backend_choices_usage_errors_local_again_and_a_busy_writer(fresh_index, corpus, tmp_path):
    index, db, cache = fresh_index, tmp_path / "lab.db", tmp_path / "cache"
    for args, says in ((["--backend", "milvus"], "needs a Milvus URI"),
                       (["--backend", "local", "--milvus-uri", db], "not with the local backend"),
                       (["--backend", "faiss"], "choose one of local, milvus"),
                       (["--milvus-only"], "--milvus-only keeps the records in Milvus: name one with --backend")):
        proc = cli("index", "update", corpus.files["C"], "--index", index, *args, cache_home=cache)
        assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    summary_of(cli("index", "build", corpus.files["A1"], "--index", index, "--backend", "milvus", "--milvus-uri", db,
                   "--json", "--quiet", cache_home=cache))
    first = (index / "CURRENT").read_text().strip()
    assert _milvus_generations(db) == {first: True}

    from index.storage.lock import WriterLock

    with WriterLock(index / "lock"):  # a second writer: exit 75, with or without Milvus
        for args in (["index", "update", corpus.files["C"]], ["index", "mirror"]):
            proc = cli(*args, "--index", index, cache_home=cache)
            assert proc.returncode == 75, proc.stderr
    assert (index / "CURRENT").read_text().strip() == first

    summary_of(cli("index", "update", corpus.files["C"], "--index", index, "--backend", "local", "--json", "--quiet",
                   cache_home=cache))
    assert not (index / "milvus.json").exists() and _ledger(index) == set()
    assert _milvus_generations(db) == {}  # no longer read: dropped
    _assert_sound(index, cache, [corpus.union("A1", "C")], "back on the local files")


def _vectors_of(index: Path, ids: list[str]) -> dict[str, int]:
    """How many doc, sentence and passage vectors the current generation holds for these records."""
    import sqlite3

    import numpy as np

    generation = index / "generations" / (index / "CURRENT").read_text().strip()
    conn = sqlite3.connect(f"file:{generation / 'store.sqlite'}?mode=ro", uri=True)
    try:
        rows = [r for (r,) in conn.execute(f"SELECT rowid FROM records WHERE id IN ({','.join('?' * len(ids))})", ids)]
        counts = {kind: conn.execute(f"SELECT count(*) FROM {table} WHERE record IN ({','.join('?' * len(rows))})",
                                     rows).fetchone()[0] for kind, table in (("docs", "docs"), ("sentences", "sentences"))}
    finally:
        conn.close()
    ranges = np.load(generation / "en_ranges.npy")  # the English leg's passages per record
    counts["passages"] = int(sum(ranges[r][1] for r in rows))
    return counts


def test_an_update_writes_only_the_changed_records_vectors_and_a_kill_while_retiring_loses_nothing(
        fresh_index, corpus, tmp_path):
    index, db, cache = fresh_index, tmp_path / "lab.db", tmp_path / "cache"
    exports = tmp_path / "C.jsonl"
    exports.write_text(corpus.files["C"].read_text())
    first = summary_of(cli("index", "mirror", "--milvus-uri", db, "--index", index, "--json", cache_home=cache))
    assert (first["added"], first["kept"], first["retired"], first["epoch"]) == (15, 0, 0, 1)

    added = summary_of(cli("index", "update", exports, "--index", index, "--json", "--quiet", cache_home=cache))["milvus"]
    assert (added["added"], added["kept"], added["retired"], added["epoch"]) == (3, 15, 0, 2)
    assert added["vectors"] == _vectors_of(index, corpus.ids["C"])  # only the new records' vectors were written
    _assert_tidy(index, db)

    # the export changes one record and loses another; an update with --prune follows it
    changed, gone, same = (json.loads(line) for line in exports.read_text().splitlines())
    changed["abstract"]["en"] += " An added closing sentence about tumour-infiltrating lymphocytes."
    exports.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (changed, same)))
    update = ["index", "update", exports, "--prune"]
    before = set(index_ids(index))
    for point in ("mirror:2", "mirror:3"):  # killed after retiring the old versions, after adding the new
        _killed(point, update, index, cache)
        _assert_sound(index, cache, [before], f"incremental update, killed at {point}")
    proc = cli(*update, "--index", index, cache_home=cache)  # as cron runs it: the log on stderr
    assert proc.returncode == 0 and "Traceback" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr[-2000:]
    said = re.search(r"milvus: mirrored to .*: 17 records at epoch (\d+): (\d+) new \((\d+) vectors written\), "
                     r"(\d+) kept, (\d+) retired", proc.stderr)
    epoch, new, vectors, kept, retired = map(int, said.groups())
    assert (new, kept, retired) == (1, 16, 2) and epoch > 2
    assert vectors == sum(_vectors_of(index, [changed["id"]]).values())
    _assert_sound(index, cache, [before - {gone["id"]}], "after the incremental update")
    _assert_tidy(index, db)
    shown = cli("show", changed["id"], "--index", index, cache_home=cache)
    assert shown.returncode == 0 and "An added closing sentence" in shown.stdout  # read from Milvus

    # the same rankings as the local files of the same generation
    local = tmp_path / "local-copy"
    shutil.copytree(index, local, ignore=shutil.ignore_patterns("milvus*.json"))
    for query in ("tumour-infiltrating lymphocytes", "免疫治疗 安全性", "cytokine release syndrome"):
        ours, theirs = (json.loads(cli("search", query, "-k", "10", "--json", "--index", i, cache_home=cache).stdout)
                        for i in (index, local))
        assert [h["id"] for h in ours["results"]] == [h["id"] for h in theirs["results"]], query


def _only_manifests(index: Path) -> None:
    """Every generation folder holds its manifest alone: no local FAISS, SQLite or BM25 files."""
    for name in _generations(index):
        folder = index / "generations" / name
        if json.loads((folder / "manifest.json").read_text())["settings"].get("storage") == "milvus":
            assert sorted(p.name for p in folder.iterdir()) == ["manifest.json"], name


def _same_rankings(index: Path, local: Path, cache: Path) -> None:
    for query in ("tumour-infiltrating lymphocytes", "免疫治疗 安全性", "cytokine release syndrome"):
        ours, theirs = (json.loads(cli("search", query, "-k", "10", "--json", "--index", i, cache_home=cache).stdout)
                        for i in (index, local))
        assert [h["id"] for h in ours["results"]] == [h["id"] for h in theirs["results"]], query


def test_milvus_only_writes_keep_no_local_files_send_only_what_changed_and_rank_as_local_files(
        fresh_index, corpus, tmp_path):
    index, db, cache = fresh_index, tmp_path / "lab.db", tmp_path / "cache"
    local = tmp_path / "local"  # the same updates, written as local files
    shutil.copytree(index, local)
    exports = tmp_path / "C.jsonl"
    exports.write_text(corpus.files["C"].read_text())

    def both(*args: str | Path) -> dict:
        summary_of(cli(*args, "--index", local, "--json", "--quiet", cache_home=cache))
        return summary_of(cli(*args, "--index", index, "--json", "--quiet", cache_home=cache))

    # 1. from local files to Milvus alone: the current records read from the local store, B added
    first = summary_of(cli("index", "update", corpus.files["B"], "--backend", "milvus", "--milvus-uri", db,
                           "--milvus-only", "--index", index, "--json", "--quiet", cache_home=cache))
    summary_of(cli("index", "update", corpus.files["B"], "--index", local, "--json", "--quiet", cache_home=cache))
    assert first["milvus_only"] and first["index_records"] == 27 and first["milvus"]["added"] == 27
    assert json.loads((index / "milvus.json").read_text()) == {"backend": "milvus", "uri": str(db), "only": True}
    _only_manifests(index)
    _assert_sound(index, cache, [corpus.union("A1", "A2", "B")], "milvus-only")

    # 2. cron, as the index remembers it: C added; only its records are embedded and sent
    added = both("index", "update", exports)
    assert added["milvus_only"] and (added["added"], added["unchanged"]) == (3, 0)
    m = added["milvus"]
    assert (m["added"], m["kept"], m["retired"]) == (3, 27, 0)
    assert m["vectors"] == _vectors_of(local, corpus.ids["C"])
    _only_manifests(index)
    _same_rankings(index, local, cache)

    # 3. the export changes one record and loses another; --prune follows it (sources read from Milvus)
    changed, gone, same = (json.loads(line) for line in exports.read_text().splitlines())
    changed["abstract"]["en"] += " An added closing sentence about tumour-infiltrating lymphocytes."
    exports.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (changed, same)))
    pruned = both("index", "update", exports, "--prune")
    assert (pruned["updated"], pruned["removed"], pruned["unchanged"]) == (1, 1, 1)
    m = pruned["milvus"]
    assert (m["added"], m["kept"], m["retired"]) == (1, 28, 2)
    assert m["vectors"] == _vectors_of(local, [changed["id"]])
    expected = corpus.union("A1", "A2", "B", "C") - {gone["id"]}
    _assert_sound(index, cache, [expected], "milvus-only, pruned")
    _assert_tidy(index, db)
    _only_manifests(index)
    _same_rankings(index, local, cache)
    shown = cli("show", changed["id"], "--index", index, cache_home=cache)
    assert shown.returncode == 0 and "An added closing sentence" in shown.stdout
    proc = cli("index", "mirror", "--index", index, cache_home=cache)
    assert proc.returncode == 1 and "live only in Milvus" in proc.stderr and "Traceback" not in proc.stderr

    # 4. B's records read from another file: Milvus learns where they come from now (nothing else is
    # sent), so a prune once that file is gone removes them, as on local files
    moved = tmp_path / "B-moved.jsonl"
    shutil.copy(corpus.files["B"], moved)
    again = both("index", "update", moved)
    assert again["unchanged"] == 12 and again["milvus"]["added"] == 0 and not any(again["milvus"]["vectors"].values())
    moved.unlink()
    pruned = both("index", "update", exports, "--prune")
    assert pruned["removed"] == 12 and pruned["milvus"]["retired"] == 12
    _assert_sound(index, cache, [expected - set(corpus.ids["B"])], "milvus-only, pruned after a move")

    # 5. local files again: a whole local generation written from the records Milvus holds
    back = summary_of(cli("index", "update", exports, "--local-files", "--index", index, "--json", "--quiet",
                          cache_home=cache))
    assert not back["milvus_only"] and back["milvus"]["added"] == 0  # the pool held every version already
    current = index / "generations" / (index / "CURRENT").read_text().strip()
    # the same records (a changed one comes last in the pool's order, in place in a local update's)
    assert (current / "store.sqlite").exists() and sorted(index_ids(index)) == sorted(index_ids(local))
    assert json.loads((index / "milvus.json").read_text()) == {"backend": "milvus", "uri": str(db)}
    _same_rankings(index, local, cache)


def test_kill_9_anywhere_in_a_milvus_only_write_loses_nothing_and_the_next_run_converges(fresh_index, corpus,
                                                                                         tmp_path):
    index, db, cache = fresh_index, tmp_path / "lab.db", tmp_path / "cache"
    ab, abc = corpus.union("A1", "A2", "B"), corpus.union("A1", "A2", "B", "C")
    summary_of(cli("index", "update", corpus.files["B"], "--backend", "milvus", "--milvus-uri", db, "--milvus-only",
                   "--index", index, "--json", "--quiet", cache_home=cache))
    update = ["index", "update", corpus.files["C"]]
    # store:1 while indexing the new records in scratch space; manifest:2 the new generation's manifest;
    # mirror:N inside the pool write; mirrored:1 written, not switched; switch:2 switched
    for point in ("store:1", "manifest:2", "mirror:2", "mirror:4", "mirrored:1", "switch:2"):
        _killed(point, update, index, cache)
        _assert_sound(index, cache, [ab, abc], f"milvus-only update, killed at {point}")
        assert _milvus_generations(db)[(index / "CURRENT").read_text().strip()]
    done = summary_of(cli(*update, "--index", index, "--json", "--quiet", cache_home=cache))
    assert done["index_records"] == len(abc) and done["milvus_only"]
    _assert_sound(index, cache, [abc], "after the last milvus-only update")
    _assert_tidy(index, db)
    _only_manifests(index)
    assert not [p for p in (index / "generations").iterdir() if p.name.startswith(".tmp-")]  # scratch removed
