"""`oncosearch eval` on real benchmark data (small slices, so a wrong ranking fails fast)."""

from __future__ import annotations

import json

import pytest

from search.evaluate import metrics
from tests.conftest import run_cli


def test_metrics_by_hand():
    qrels = {"q1": {"a": 1}, "q2": {"b": 2, "c": 1}, "q3": {"z": 1}}
    ranked = {"q1": ["a", "x"], "q2": ["x", "c", "b"], "q3": ["x"] * 20}
    m = metrics(ranked, qrels)
    assert m["queries"] == 3
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["recall@1"] == pytest.approx((1 + 0 + 0) / 3)
    assert m["recall@10"] == pytest.approx((1 + 1 + 0) / 3)
    import math

    dcg2 = 1 / math.log2(3) + 2 / math.log2(4)
    idcg2 = 2 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx((1 + dcg2 / idcg2 + 0) / 3)


@pytest.fixture(scope="module")
def pubmedqa_slice(shared, tmp_path_factory):
    """The first 120 PubMedQA abstracts with their questions, as a BEIR folder."""
    src = shared / "bench" / "pubmedqa"
    out = tmp_path_factory.mktemp("pqa")
    docs = src.joinpath("corpus.jsonl").read_text(encoding="utf-8").splitlines()[:120]
    ids = {json.loads(d)["_id"] for d in docs}
    (out / "corpus.jsonl").write_text("\n".join(docs) + "\n", encoding="utf-8")
    qrels = [line for line in src.joinpath("qrels/test.tsv").read_text().splitlines()[1:] if line.split("\t")[1] in ids]
    (out / "qrels").mkdir()
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(qrels) + "\n")
    qids = {line.split("\t")[0] for line in qrels}
    queries = [q for q in src.joinpath("queries.jsonl").read_text().splitlines() if json.loads(q)["_id"] in qids]
    (out / "queries.jsonl").write_text("\n".join(queries) + "\n")
    return out


def test_eval_beir_modes(pubmedqa_slice, tmp_path_factory):
    env = {"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache"))}
    results = {}
    for mode in ("hybrid", "dense", "lexical", "english"):
        proc = run_cli("eval", str(pubmedqa_slice), "--mode", mode, "--json", env=env)
        assert proc.returncode == 0, proc.stderr
        results[mode] = json.loads(proc.stdout)
    assert set(results["hybrid"]) == {"mode", "k", "backend", "corpus", "queries", "mrr@10", "recall@1", "recall@10",
                                      "ndcg@10", "index"}
    assert results["hybrid"]["index"].endswith("(built)")  # one evaluation index, built once, then reused
    assert all(results[m]["index"] == results["hybrid"]["index"].replace("(built)", "(reused)")
               for m in ("dense", "lexical", "english"))
    assert results["hybrid"]["k"] == 10  # ranked as `search` ranks by default
    deep = json.loads(run_cli("eval", str(pubmedqa_slice), "-k", "100", "--json", env=env).stdout)
    assert deep["k"] == 100 and deep["recall@100"] >= deep["recall@10"]
    assert results["hybrid"]["corpus"] == 120
    assert results["hybrid"]["queries"] == len((pubmedqa_slice / "queries.jsonl").read_text().splitlines())
    assert results["dense"]["mrr@10"] > 0.8
    assert results["lexical"]["mrr@10"] > 0.9
    assert results["english"]["mrr@10"] > 0.9
    assert results["hybrid"]["mrr@10"] >= max(r["mrr@10"] for r in results.values()) - 0.01


def test_eval_parallel_cross_lingual(shared, tmp_path):
    src = shared / "bench" / "wmt18-biomed-zh-en"
    folder = tmp_path / "wmt"
    folder.mkdir()
    for ext in ("zh", "en"):
        lines = src.joinpath(f"wmt18.medline.zh-en.{ext}").read_text(encoding="utf-8").splitlines()[:80]
        folder.joinpath(f"slice.{ext}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("eval", str(folder), "--mode", "dense", "--json", env={"XDG_CACHE_HOME": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["pairs"] == 80
    assert out["zh->en accuracy@1"] >= 0.9 and out["en->zh accuracy@1"] >= 0.9


def test_eval_rejects_a_folder_that_is_no_benchmark(tmp_path):
    proc = run_cli("eval", str(tmp_path))
    assert proc.returncode == 1 and "not a BEIR folder" in proc.stderr and "Traceback" not in proc.stderr


def test_parallel_files_split_on_newlines_only(tmp_path):
    from search.evaluate import parallel_as_beir

    (tmp_path / "p.zh").write_text("第一句\u2029仍是第一句\n第二句\n", encoding="utf-8")
    (tmp_path / "p.en").write_text("first\nsecond\n", encoding="utf-8")
    records, queries, qrels = parallel_as_beir(tmp_path / "p.zh", tmp_path / "p.en", "zh->en")
    assert len(records) == len(queries) == 2
