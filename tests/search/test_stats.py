"""search.stats.index_stats on the session's real index: every figure agrees with the files on disk."""

from __future__ import annotations

import json

import pytest

from index.storage.store import Store
from search.engine import Searcher
from search.stats import index_stats


@pytest.fixture(scope="module")
def generation(built_index):
    return built_index / "generations" / (built_index / "CURRENT").read_text().strip()


@pytest.fixture(scope="module")
def info(built_index):
    return index_stats(Searcher(built_index))


@pytest.fixture(scope="module")
def on_disk(generation):
    """What the store and manifest of the current generation hold, read without the search engine."""
    store = Store(generation / "store.sqlite")
    try:
        records = [s.record for s in store.iter_records()]
        counts = {"docs": store.count("docs"), "sentences": store.count("sentences")}
    finally:
        store.close()
    manifest = json.loads((generation / "manifest.json").read_text())
    return records, counts, manifest


def test_counts_agree_with_the_store(info, on_disk, sample_subset):
    records, counts, manifest = on_disk
    assert info["records"] == len(records) == len(sample_subset[1]) + 1 == manifest["records"]
    assert info["doc_vectors"] == counts["docs"] == manifest["docs"]
    assert info["sentence_vectors"] == counts["sentences"] == manifest["sentences"]


def test_languages(info, on_disk):
    records, _, _ = on_disk
    assert info["records_zh"] == sum("zh" in r.langs for r in records) == 1  # the bilingual seed review
    assert info["records_en"] == sum("en" in r.langs for r in records) == len(records)
    assert info["records_bilingual"] == sum(set(r.langs) == {"zh", "en"} for r in records) == 1
    assert info["doc_vectors"] == len(records) + 1  # one doc vector per record language


def test_years(info, on_disk):
    records, _, _ = on_disk
    years = [r.year for r in records if r.year]
    assert info["years"] == f"{min(years)}–{max(years)}"
    assert max(years) == 2024  # the seed review


def test_model_and_where(info, on_disk, built_index, generation):
    _, _, manifest = on_disk
    assert info["model_id"] == manifest["model_id"] and info["model_id"].startswith("use-m-v3")
    assert info["model_path"] is None  # the built-in model
    assert info["dimension"] == manifest["dim"] == 512
    assert info["generation"] == generation.name
    assert info["index_dir"] == str(built_index)
    assert info["built_at"] == manifest["built_at"]


def test_vector_files_and_english_leg(info, generation, on_disk):
    import faiss

    _, _, manifest = on_disk
    assert info["index_types"]["docs.faiss"] == info["index_types"]["sents.faiss"] == "flat"  # small index: exact
    assert info["english_model"] == manifest["settings"]["english_model"]
    assert info["english_passages"] == faiss.read_index(str(generation / "en.faiss")).ntotal
    assert info["english_passages"] >= info["records_en"]  # at least one passage per English record
    top = sum(f.stat().st_size for f in generation.iterdir() if f.is_file())
    everything = sum(f.stat().st_size for f in generation.rglob("*") if f.is_file())
    assert round(top / 1e6, 1) <= info["size_mb"] <= round(everything / 1e6, 1)  # with or without bm25/


def test_everything_is_json_and_fusion_weights_are_given(info):
    assert json.loads(json.dumps(info)) == info
    assert 0 < info["doc_weight"] < 1
    fusion = info["fusion"]
    assert 0 < fusion["dense_weight"] < 1 and 0 < fusion["english_weight"] < 1  # an index with the English leg
    assert info["threads"] >= 1
