"""Quality regression: the dev sets' figures, on evaluation indexes built fresh by the code under
test, must stay a little under what was measured (BENCHMARKS.md). A real drop fails here (the
floors sit about 0.01 under the measured figures, which move only when the ranking does, never
with load; a floor is raised with its figure, as LiveQA's was when short queries moved it).

Each test session builds its evaluation indexes from nothing (embeddings included) in a temporary
folder, so a change to the tokenizer, chunking, glossary, models or fusion is measured, never a
cached index. The sets: PubMedQA dev (1,000 abstracts, 500 questions) in English and its 63
questions in Chinese (bench/pubmedqa-zh), WMT18 biomedical zh<->en (456 pairs, hybrid), and LiveQA
medical (48 judged questions over 1,935 passages, graded nDCG@10). About four minutes on 2 cores.
Deselect with `-m "not quality"` for a quick local run. When tuning fusion (which changes no
index), ONCOSEARCH_QUALITY_EVAL_ROOT=DIR keeps the evaluation indexes in DIR between local runs;
CI never sets it, so CI always measures indexes built by the code under test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from search import evaluate

pytestmark = [pytest.mark.quality, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

# measured hybrid figures (BENCHMARKS.md, "Retrieval quality"), and the floors a run must reach
FLOORS = {
    "pubmedqa mrr@10": 0.979,  # measured 0.9887
    "pubmedqa-zh mrr@10": 0.904,  # measured 0.9142 (0.8830 before the consensus of two legs, search.fusion.agree)
    "wmt18 zh->en accuracy@1": 0.972,  # measured 0.9825
    "wmt18 en->zh accuracy@1": 0.972,  # measured 0.9825
    "liveqa ndcg@10": 0.731,  # measured 0.7409 (0.7357 before short queries leaned on BM25)
}


@pytest.fixture(scope="module")
def fresh_eval_root(tmp_path_factory):
    """Evaluation indexes and their embedding cache in a new folder: everything built by this code."""
    kept = os.environ.get("ONCOSEARCH_QUALITY_EVAL_ROOT")
    root = Path(kept) if kept else tmp_path_factory.mktemp("eval")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluate, "eval_root", lambda: root)
        yield root


def _check(name: str, value: float) -> None:
    print(f"{name}: {value:.4f} (floor {FLOORS[name]})")
    floor = FLOORS[name]
    assert value >= floor, f"{name} {value:.4f} fell below its floor {floor} (a quality regression)"


def test_pubmedqa_english_questions(fresh_eval_root, shared):
    report = evaluate.run_eval(shared / "bench" / "pubmedqa")
    assert report["queries"] == 500
    if not os.environ.get("ONCOSEARCH_QUALITY_EVAL_ROOT"):
        assert report["index"].endswith("(built)")  # measured on an index this code built
    _check("pubmedqa mrr@10", report["mrr@10"])


def test_pubmedqa_chinese_questions(fresh_eval_root, shared):
    report = evaluate.run_eval(shared / "bench" / "pubmedqa", queries_file=ROOT / "bench/pubmedqa-zh/queries.jsonl")
    assert report["queries"] == 63
    _check("pubmedqa-zh mrr@10", report["mrr@10"])


def test_wmt18_hybrid_both_directions(fresh_eval_root, shared):
    report = evaluate.run_eval(shared / "bench" / "wmt18-biomed-zh-en", mode="hybrid")
    assert report["pairs"] == 456
    _check("wmt18 zh->en accuracy@1", report["zh->en accuracy@1"])
    _check("wmt18 en->zh accuracy@1", report["en->zh accuracy@1"])


def test_liveqa_graded(fresh_eval_root, shared):
    report = evaluate.run_eval(shared / "bench" / "liveqa-dev")
    assert report["queries"] == 48
    _check("liveqa ndcg@10", report["ndcg@10"])
