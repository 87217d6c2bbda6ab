"""bench/pubmedqa-zh: selection rule, ids, qrels copied from the English set."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ZH = ROOT / "bench" / "pubmedqa-zh"
EN = Path(__file__).resolve().parents[3] / ".." / "shared" / "bench" / "pubmedqa"
for cand in (ROOT / "shared" / "bench" / "pubmedqa", ROOT.parent / "shared" / "bench" / "pubmedqa"):
    if cand.exists():
        EN = cand


def _jsonl(p):
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_queries_are_chinese_and_well_formed():
    qs = _jsonl(ZH / "queries.jsonl")
    assert len(qs) >= 60
    assert all(set(q) == {"_id", "text"} for q in qs)
    assert len({q["_id"] for q in qs}) == len(qs)
    assert all(sum("\u4e00" <= c <= "\u9fff" for c in q["text"]) >= 4 for q in qs)


def test_qrels_header_and_ids():
    qs = {q["_id"] for q in _jsonl(ZH / "queries.jsonl")}
    lines = (ZH / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "query-id\tcorpus-id\tscore"
    assert {line.split("\t")[0] for line in lines[1:]} == qs


def test_selection_rule_and_qrels_copied():
    en = _jsonl(EN / "queries.jsonl")
    assert [q["_id"] for q in _jsonl(ZH / "queries.jsonl")] == [q["_id"] for q in en[::8]]
    en_rows = (EN / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    zh_rows = (ZH / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]
    ids = {q["_id"] for q in en[::8]}
    assert zh_rows == [r for r in en_rows if r.split("\t")[0] in ids]
