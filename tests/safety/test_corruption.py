"""Damaged indexes: `index check` names the file and exits 1; `search` exits 1 with one clear line."""

from __future__ import annotations

import sqlite3

import pytest
from safety_helpers import cli


def _gen(index):
    return index / "generations" / (index / "CURRENT").read_text().strip()


def truncate_docs(index):
    p = _gen(index) / "docs.faiss"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return "docs.faiss"


def garbage_sents(index):
    p = _gen(index) / "sents.faiss"
    p.write_bytes(b"\x00garbage\xff" * (p.stat().st_size // 9))
    return "sents.faiss"


def foreign_store(index):
    p = _gen(index) / "store.sqlite"
    p.unlink()
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    conn.executemany("INSERT INTO invoices (amount) VALUES (?)", [(i * 1.5,) for i in range(100)])
    conn.commit()
    conn.close()
    return "store.sqlite"


def delete_manifest(index):
    (_gen(index) / "manifest.json").unlink()
    return "manifest.json"


def current_missing(index):
    (index / "CURRENT").write_text("g999999-nothing-here\n")
    return "g999999-nothing-here"


def flip_store_bytes(index):
    p = _gen(index) / "store.sqlite"
    data = bytearray(p.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 64, 8):  # a few bytes in the middle of the file
        data[at] ^= 0xFF
    p.write_bytes(bytes(data))
    return "store.sqlite"


def shift_ranges(index):
    import numpy as np

    p = _gen(index) / "ranges.npy"
    ranges = np.load(p)
    ranges[1, 1] += 1  # record 1's doc vectors one place off: same size, wrong content
    np.save(p, ranges)
    return "ranges.npy"


@pytest.mark.parametrize("damage", [truncate_docs, garbage_sents, foreign_store, delete_manifest, current_missing,
                                    flip_store_bytes, shift_ranges])
def test_damage_is_reported_not_crashed(tmp_path, fresh_index, damage):
    name = damage(fresh_index)
    check = cli("index", "check", "--index", fresh_index, cache_home=tmp_path)
    assert check.returncode == 1
    assert name in check.stderr and "PROBLEM" in check.stderr, check.stderr
    search = cli("search", "cancer", "--index", fresh_index, cache_home=tmp_path)
    assert search.returncode == 1, search.stdout
    assert search.stderr.startswith("oncosearch: error: ") and name in search.stderr, search.stderr
    assert "Traceback" not in search.stderr and len(search.stderr.strip().splitlines()) == 1


def test_search_after_damage_even_when_verified_before(tmp_path, fresh_index):
    """A search that verified the generation once must notice a later change to a file."""
    ok = cli("search", "cancer", "-k", "1", "--index", fresh_index, cache_home=tmp_path)
    assert ok.returncode == 0, ok.stderr
    flip_store_bytes(fresh_index)
    bad = cli("search", "cancer", "-k", "1", "--index", fresh_index, cache_home=tmp_path)
    assert bad.returncode == 1 and "store.sqlite" in bad.stderr, bad.stderr
