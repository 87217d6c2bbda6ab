"""The concept dev set (bench/concepts) stays sound against the bundled sample: no index needed.

Fails when a qrels id is not a record of the sample (a reader or the sample changed ids), when a
query has fewer than three relevant records or lacks its other-language twin, when the set has
fewer than 40 concepts, when queries.jsonl or qrels/test.tsv differ from what make_set.py derives
from judgments.tsv, or when the screening patterns and the sample no longer select exactly the
records that were judged (a new sample record that a pattern catches has not been read yet).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path

import pytest

SET = Path(__file__).resolve().parents[2] / "bench" / "concepts"


def _load(name: str):
    """bench/concepts/NAME.py as module NAME (make_set imports screen by that name)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SET / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
    return sys.modules[name]


screen = _load("screen")
make_set = _load("make_set")


@pytest.fixture(scope="module")
def sample():
    return screen.sample_records()


@pytest.fixture(scope="module")
def queries() -> list[dict]:
    lines = (SET / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def qrels() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    with open(SET / "qrels" / "test.tsv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    assert rows[0] == ["query-id", "corpus-id", "score"]
    for qid, doc, score in rows[1:]:
        out[qid][doc] = int(score)
    return dict(out)


def test_at_least_40_concepts_each_asked_in_english_and_chinese(queries):
    by_concept = defaultdict(set)
    for q in queries:
        assert q["_id"] == f"{q['_id'][:-3]}-{q['lang']}" and q["lang"] in ("en", "zh")
        assert q["text"].strip()
        by_concept[q["_id"][:-3]].add(q["lang"])
    assert len(by_concept) >= 40
    assert all(langs == {"en", "zh"} for langs in by_concept.values()), by_concept
    zh = [q["text"] for q in queries if q["lang"] == "zh"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in zh)


def test_every_query_has_three_relevant_records_the_same_in_both_languages(queries, qrels):
    for q in queries:
        graded = qrels.get(q["_id"], {})
        assert sum(g > 0 for g in graded.values()) >= 3, q["_id"]
        assert set(graded.values()) <= {1, 2}
    for qid in qrels:
        twin = qid[:-2] + ("zh" if qid.endswith("en") else "en")
        assert qrels[qid] == qrels[twin], qid


def test_every_qrels_id_is_a_record_of_the_sample(qrels, sample):
    ids = {r.id for r in sample}
    missing = sorted({doc for docs in qrels.values() for doc in docs} - ids)
    assert not missing, f"{len(missing)} qrels ids not in the sample, e.g. {missing[:5]}"


def test_queries_and_qrels_are_what_the_judgments_give(queries, qrels):
    judgments = make_set.read_judgments()
    kept = make_set.kept_concepts(judgments)
    assert [q["_id"] for q in queries] == [f"{c.id}-{lang}" for c in kept for lang in ("en", "zh")]
    for c in kept:
        wanted = {j.corpus_id: j.grade for j in make_set.relevant(judgments, c.id)}
        assert qrels[f"{c.id}-en"] == wanted
        assert {q["text"] for q in queries if q["_id"].startswith(c.id + "-")} == {c.en, c.zh}


def test_judgments_cover_exactly_the_screened_records(sample):
    judgments = make_set.read_judgments()
    assert all(j.grade in (0, 1, 2) and j.why.strip() for j in judgments)
    judged = defaultdict(set)
    for j in judgments:
        judged[j.concept].add(j.corpus_id)
    assert sum(len(v) for v in judged.values()) == len(judgments), "a record judged twice for a concept"
    candidates = screen.screen_all(sample)
    for c in screen.CONCEPTS:
        found = {r.id for r in candidates[c.id]}
        assert found == judged[c.id], (
            f"{c.id}: screened but not judged {sorted(found - judged[c.id])[:5]}, "
            f"judged but no longer screened {sorted(judged[c.id] - found)[:5]}")
