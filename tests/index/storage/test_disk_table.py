"""Disk-backed look-up tables (index/storage/disk_table.py) and the query path's jieba and CC-CEDICT on them:
same answers as the in-memory dictionaries, kill-safe builds, fallbacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import index.lexical.tokenize as T
from index.storage import disk_table as dt
from search import translate

ROOT = Path(__file__).resolve().parents[3]
SHARED = (ROOT / ".." / "shared").resolve()
QUERIES = ROOT / "bench" / "pubmedqa-zh" / "queries.jsonl"
SEED = SHARED / "seed" / "immune-cell-therapy-review.zh-en.txt"
CSL = SHARED / "corpus" / "csl" / "benchmark" / "ts" / "dev.tsv"
QUERY = "CAR-T细胞治疗的安全性"


@pytest.fixture
def cache_home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("ONCOSEARCH_NO_MODEL_CACHE", raising=False)
    return tmp_path


def _zh_queries() -> list[str]:
    with open(QUERIES, encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def _zh_texts() -> list[str]:
    texts = _zh_queries()
    texts += [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    with open(CSL, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 250:
                break
            _, abstract, title = line.rstrip("\n").split("\t")[:3]
            texts += [abstract, title]
    # Traditional characters, full-width Latin, codes inside Chinese, a lone character.
    texts += ["嵌合抗原受體T細胞療法", "ＰＤ－Ｌ１抑制劑聯合化療", "靶向CD19的CAR-T与4-1BB共刺激", "癌", ""]
    return texts


# ---------------------------------------------------------------------------------------------
# (a) the table itself

ITEMS = {"细胞": 5, "细": 0, "治疗": 7, "a b": 1, "": 3, "x\x00y": 2, "long" * 50: 9, "text": "value"}


def test_round_trip_behaves_like_the_dict(cache_home):
    path = dt.build_table("t", ["v1"], ITEMS.items(), meta={"total": 42, "words": ["甲"]})
    assert path is not None and path.parent == cache_home / "oncosearch" / "tables"
    assert path.name.startswith("t-") and path.suffix == ".sqlite"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    table = dt.open_table("t", ["v1"])
    assert table is not None and table.meta["total"] == 42 and table.meta["words"] == ["甲"]
    for _ in range(2):  # second round from the memo
        for key, value in ITEMS.items():
            assert key in table and table[key] == value and table.get(key) == value and table.get(key, -1) == value
        for missing in ["细胞治疗", "x", "细胞 ", 5, None]:
            assert missing not in table and table.get(missing) is None and table.get(missing, ()) == ()
            with pytest.raises(KeyError):
                table[missing]
    assert table.get("细") == 0 and not table.get("细")  # a zero value is present but falsy, as in jieba's FREQ
    assert len(table) == len(ITEMS) and sorted(table) == sorted(ITEMS) and dict(table.items()) == ITEMS
    seen = []
    th = threading.Thread(target=lambda: seen.append(table.get("治疗")))  # shared between threads
    th.start()
    th.join()
    assert seen == [7]


def test_decode_on_read(cache_home):
    dt.build_table("s", [1], [("a", "x\x1fy"), ("b", "z")])
    table = dt.open_table("s", [1], decode=lambda v: tuple(v.split("\x1f")))
    assert table["a"] == ("x", "y") and table.get("b", ()) == ("z",) and table.get("c", ()) == ()


def test_key_parts_pick_the_file(cache_home):
    dt.build_table("t", ["v1"], [("k", 1)])
    assert dt.open_table("t", ["v2"]) is None
    assert dt.table_path("t", ["v1"]) != dt.table_path("t", ["v2"]) != dt.table_path("u", ["v2"])


def test_existing_table_is_reused_not_rebuilt(cache_home):
    path = dt.build_table("t", ["v1"], [("k", 1)])
    stamp = path.stat().st_mtime_ns, path.stat().st_ino
    assert dt.build_table("t", ["v1"], [("k", 2)]) == path
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == stamp
    assert dt.open_table("t", ["v1"])["k"] == 1


def test_leftover_temp_files_do_not_break_anything(cache_home):
    folder = cache_home / "oncosearch" / "tables"
    folder.mkdir(parents=True)
    fresh = folder / ".tmp-t-killed.sqlite"  # a build killed half-way, or one still running elsewhere
    fresh.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    stale = folder / ".tmp-t-old.sqlite"
    stale.write_bytes(b"garbage")
    old = time.time() - 3 * 24 * 3600
    os.utime(stale, (old, old))
    assert dt.open_table("t", ["v1"]) is None  # a temp file is never taken for the table
    path = dt.build_table("t", ["v1"], [("k", 1)])
    assert dt.open_table("t", ["v1"])["k"] == 1
    assert fresh.exists() and not stale.exists()  # only a stale one is cleaned up
    assert {p.name for p in folder.iterdir()} == {fresh.name, path.name}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_table_is_refused_then_replaced(cache_home, damage):
    path = dt.build_table("t", ["v1"], [(f"k{i}", i) for i in range(5000)])
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a database" * 100, "truncated": data[: len(data) // 2], "empty": b""}[damage])
    assert dt.open_table("t", ["v1"]) is None
    assert dt.build_table("t", ["v1"], [("k", 1)]) == path
    assert dt.open_table("t", ["v1"])["k"] == 1


def test_no_cache_env_and_unwritable_cache(cache_home, monkeypatch):
    monkeypatch.setenv("ONCOSEARCH_NO_MODEL_CACHE", "1")
    assert dt.table_path("t", [1]) is None
    assert dt.build_table("t", [1], [("k", 1)]) is None and dt.open_table("t", [1]) is None
    monkeypatch.delenv("ONCOSEARCH_NO_MODEL_CACHE")
    blocker = cache_home / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the cache "folder" is a file: nothing can be written
    assert dt.build_table("t", [1], [("k", 1)]) is None and dt.open_table("t", [1]) is None
    assert dt.build_table("t", [1], [("k", None)]) is None  # None values are refused, not stored


# ---------------------------------------------------------------------------------------------
# (b) jieba on the disk table


@pytest.fixture(scope="module")
def jieba_pair(tmp_path_factory):
    """(in-memory tokenizer, disk-backed tokenizer), the table written from the first into a temp cache."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        mp.delenv("ONCOSEARCH_NO_MODEL_CACHE", raising=False)
        memory = T.new_jieba_tokenizer()
        assert T._disk_tokenizer() is None  # no table yet
        disk = T._disk_tokenizer(build_from=memory)
        assert disk is not None and isinstance(disk.FREQ, dt.DiskTable)
        yield memory, disk, cache


def test_disk_dictionary_is_the_in_memory_one(jieba_pair):
    memory, disk, _ = jieba_pair
    assert disk.total == memory.total and disk.initialized
    assert dict(disk.FREQ.items()) == memory.FREQ


def test_disk_jieba_tokenizes_identically(jieba_pair, monkeypatch):
    memory, disk, _ = jieba_pair
    texts = _zh_texts()
    assert len(texts) > 500
    out = {}
    for name, tk in (("memory", memory), ("disk", disk)):
        monkeypatch.setattr(T, "_jieba", tk)
        out[name] = [(T.tokenize(t, "zh"), tk.lcut(t), tk.lcut(t, HMM=False)) for t in texts]
    mismatches = [t for t, a, b in zip(texts, out["memory"], out["disk"], strict=True) if a != b]
    assert not mismatches, mismatches[:3]
    assert sum(len(toks) for toks, _, _ in out["disk"]) > 10_000


def test_use_disk_dictionary_switch(jieba_pair, monkeypatch):
    memory, _, cache = jieba_pair
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(T, "_jieba", None)
    monkeypatch.setattr(T, "_use_disk", False)
    T.use_disk_dictionary()
    assert isinstance(T.jieba_tokenizer().FREQ, dt.DiskTable)
    monkeypatch.setattr(T, "_jieba", None)
    monkeypatch.setenv("ONCOSEARCH_NO_MODEL_CACHE", "1")  # cache off: the in-memory dictionary, same words
    monkeypatch.setattr(T, "new_jieba_tokenizer", lambda: memory)
    assert T.jieba_tokenizer() is memory


def test_force_split_words_are_replayed(tmp_path, monkeypatch):
    userdict = tmp_path / "userdict.txt"
    userdict.write_text("\ufeff细胞治疗 300\n非词 0\n\n化疗 5 n\n只有词\n", encoding="utf-8")
    monkeypatch.setattr(T, "USERDICT_PATH", userdict)
    assert T._force_split_words() == ["非词"]


# ---------------------------------------------------------------------------------------------
# (c) CC-CEDICT on the disk table


def test_gloss_identical_with_disk_cedict(cache_home, monkeypatch):
    translate.cedict.cache_clear()
    try:
        parsed = translate.cedict()  # no table yet: parses the file and writes the table
        assert isinstance(parsed, dict)
        translate.cedict.cache_clear()
        table = translate.cedict()
        assert isinstance(table, dt.DiskTable)
    finally:
        translate.cedict.cache_clear()
    assert dict(table.items()) == parsed
    queries = _zh_queries() + [QUERY, "颈动脉内膜中层厚度", "突变"]
    out = {}
    for name, tab in (("dict", parsed), ("disk", table)):
        monkeypatch.setattr(translate, "cedict", lambda tab=tab: tab)
        out[name] = [translate.gloss(q) for q in queries]
    assert out["dict"] == out["disk"]
    assert sum(map(len, out["disk"])) > 100
    for word in ["细胞", "治疗", "没有这个词", "x"]:
        assert (word in table) == (word in parsed) and table.get(word, ()) == parsed.get(word, ())


# ---------------------------------------------------------------------------------------------
# (d) a fresh process on the disk table never loads jieba's prefix dictionary

COLD = """
import json, marshal, sys
import jieba
calls = []
real_load = marshal.load
marshal.load = lambda *a, **k: (calls.append("marshal.load"), real_load(*a, **k))[1]
real_init = jieba.Tokenizer.initialize
jieba.Tokenizer.initialize = lambda self, *a, **k: (calls.append("initialize"), real_init(self, *a, **k))[1]
import index.lexical.tokenize as T
T.use_disk_dictionary()
tokens = T.tokenize(sys.argv[1], "zh")
print(json.dumps({"calls": calls, "tokens": tokens, "freq": type(T.jieba_tokenizer().FREQ).__name__}))
"""


def test_cold_process_does_not_load_the_prefix_dictionary(jieba_pair, monkeypatch):
    memory, _, cache = jieba_pair
    monkeypatch.setattr(T, "_jieba", memory)
    expected = T.tokenize(QUERY, "zh")
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "PYTHONPATH": str(ROOT)}
    env.pop("ONCOSEARCH_NO_MODEL_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", COLD, QUERY], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120, check=True)  # fmt: skip
    got = json.loads(proc.stdout)
    assert got == {"calls": [], "tokens": expected, "freq": "DiskTable"}
