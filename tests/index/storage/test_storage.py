"""The storage seam and its local implementation, on a real generation."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from index.errors import DamagedIndex, NoIndex
from index.storage import Filters, Storage, open_generation
from index.storage.base import DOCS, PASSAGES, SENTENCES
from index.storage.local import expand_ranges, filters_sql


@pytest.fixture(scope="module")
def storage(built_index) -> Storage:
    return open_generation(built_index)


def _unit(dim: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def test_nothing_built_is_no_index(tmp_path):
    with pytest.raises(NoIndex) as e:
        open_generation(tmp_path / "none")
    assert e.value.root == tmp_path / "none"


def test_a_damaged_file_is_refused_before_it_is_read(built_index, tmp_path):
    copy = tmp_path / "idx"
    shutil.copytree(built_index, copy)
    generation = next(p for p in (copy / "generations").iterdir() if not p.name.startswith("."))
    with open(generation / "sents.faiss", "r+b") as f:
        f.seek(200)
        f.write(b"\x00" * 64)
    with pytest.raises(DamagedIndex, match="sents.faiss"):
        open_generation(copy)
    assert open_generation(copy, verify=False).name == generation.name  # the check is what refused it


def test_fields_keep_each_records_run(storage):
    for name in (DOCS, SENTENCES, PASSAGES):
        field = storage.field(name)
        assert field is not None and field.size == int(field.counts(np.arange(storage.records)).sum())
    qv = _unit(storage.field(SENTENCES).dim)
    rows = np.arange(min(40, storage.records))
    field = storage.field(SENTENCES)
    best = field.best(rows, qv)
    for row, b in zip(rows, best, strict=True):
        n = int(field.counts(np.array([row]))[0])
        cos = field.cosines(int(row), np.arange(n), qv)
        assert (b == 0 and n == 0) or b == pytest.approx(cos.max(), abs=1e-6)
        if n:
            assert field.first(np.array([row]), qv)[0] == pytest.approx(cos[0], abs=1e-6)


def test_nearest_honours_the_allow_list(storage):
    field = storage.field(DOCS)
    qv = _unit(field.dim, 1)
    allowed = np.arange(0, storage.records, 7)
    owners = field.nearest(qv, 50, allowed)
    assert len(owners) and set(owners.tolist()) <= set(allowed.tolist())
    assert len(set(field.nearest(qv, 50).tolist()) - set(allowed.tolist())) > 0


def test_filters_are_evaluated_by_the_storage(storage):
    assert storage.allowed(None) is None and storage.allowed(Filters()) is None
    zh = storage.allowed(Filters(lang="zh"))
    assert len(zh) >= 1
    assert all("zh" in s.record.langs for s in storage.get(zh.tolist()).values())
    recent = storage.allowed(Filters(year_from=2021))
    assert all((s.record.year or 0) >= 2021 for s in storage.get(recent.tolist()).values())
    assert filters_sql(Filters(therapy=("car-t",), year_to=2020))[1] == ("car-t", 2020)


def _text(stored) -> str:
    r = stored.record
    return "\n".join(v for d in (r.title, r.abstract) for v in d.values()).lower()


def test_containing_matches_phrases_and_exclusions_in_titles_and_abstracts(storage):
    every = list(storage.iter_records())
    with_crs = {s.rowid for s in every if "cytokine release syndrome" in _text(s)}
    assert with_crs and len(with_crs) < storage.records
    assert storage.containing(["Cytokine Release Syndrome"]).tolist() == sorted(with_crs)
    without = storage.containing([], ["cytokine release syndrome"])
    assert set(without.tolist()) == {s.rowid for s in every} - with_crs
    with_both = {s.rowid for s in every if "cytokine release syndrome" in _text(s) and "neurotoxicity" in _text(s)}
    assert set(storage.containing(["cytokine release syndrome", "neurotoxicity"]).tolist()) == with_both
    rows = np.array(sorted(with_crs)[:2] + [s.rowid for s in every if s.rowid not in with_crs][:3])
    assert storage.containing(["cytokine release syndrome"], rows=rows).tolist() == sorted(with_crs)[:2]
    zh = [s.rowid for s in every if "免疫细胞治疗" in _text(s)]
    assert zh and storage.containing(["免疫細胞治療"]).tolist() == zh  # Traditional meets Simplified


def test_containing_a_few_rows_before_anything_is_folded_gives_the_same_answer(built_index, storage):
    fresh = open_generation(built_index)  # nothing folded yet: only these rows are
    rows = np.arange(0, storage.records, 9)
    for phrases, excluded in ((["CAR-T"], []), (["cell"], ["lymphoma", "cytokine release syndrome"]), ([], ["the"])):
        few = fresh.containing(phrases, excluded, rows)
        assert "_folded" not in fresh.__dict__
        assert few.tolist() == np.intersect1d(storage.containing(phrases, excluded), rows).tolist()  # all folded
    assert len(fresh.containing(["CAR-T"], [], rows)) > 0


def test_a_searcher_used_again_narrows_by_its_word_index_with_the_same_answers(built_index):
    queries = [(["CAR-T"], []), (["cytokine release syndrome"], ["tocilizumab"]), (["免疫细胞"], []),
               (["immunotherapy"], ["mouse"]), ([], ["the"]), (["t cell", "(CAR)"], [])]
    scanned = []
    for phrases, excluded in queries:  # a fresh generation's first phrase query checks every record
        fresh = open_generation(built_index)
        scanned.append(fresh.containing(phrases, excluded).tolist())
        assert "_words" not in fresh.__dict__
    again = open_generation(built_index)
    rounds = 0
    while "_words" not in again.__dict__:  # a searcher that keeps answering builds its word index
        assert [again.containing(p, e).tolist() for p, e in queries] == scanned
        rounds += 1
    assert 3 < rounds < 20  # 40 scans of every record's worth of checks (each round scans several times)
    assert [again.containing(p, e).tolist() for p, e in queries] == scanned
    assert all(scanned[:4]) and len(scanned[4]) < 10


def test_newest_orders_by_year_then_id(storage):
    every = list(storage.iter_records())
    key = {s.rowid: (s.record.year is None, -(s.record.year or 0), s.record.id) for s in every}
    expected = sorted(key, key=key.get)
    assert storage.newest(None, 10).tolist() == expected[:10]
    assert storage.newest(None, storage.records + 5).tolist() == expected
    rows = np.array(expected[::3][::-1])  # any order in, newest first out
    assert storage.newest(rows, 1000).tolist() == expected[::3]
    assert storage.newest(rows, 2).tolist() == expected[::3][:2]


def test_sentences_leave_titles_out_and_point_into_the_run(storage):
    row = next(s.rowid for s in storage.iter_records() if s.record.abstract.get("en"))
    sentences = storage.sentences(row)
    n = int(storage.field(SENTENCES).counts(np.array([row]))[0])
    assert sentences and all(0 <= s.offset < n for s in sentences)
    title = storage.get([row])[row].record.title.get("en")
    assert title not in [s.text for s in sentences]


def test_records_by_key_and_description(storage):
    first = next(storage.iter_records())
    assert storage.find(first.record.id).rowid == first.rowid
    assert storage.find("no-such-record") is None
    held = storage.describe()
    assert held["records_en"] + held["records_zh"] - held["records_bilingual"] == storage.records
    assert held["english_passages"] == storage.field(PASSAGES).size and held["size_bytes"] > 0


def test_expand_ranges():
    assert expand_ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]
    assert expand_ranges(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []
