"""bench/milvus_scale.py end to end at a tiny size: the session index's real sentence vectors topped up
with noisy copies, exact search, local HNSW and milvus-lite, recall checked against a numpy brute force."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_scale_bench_measures_exact_local_and_milvus(built_index, tmp_path):
    pytest.importorskip("pymilvus")
    out = tmp_path / "scale.json"
    table = tmp_path / "scale.md"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "milvus_scale.py"), "--index", str(built_index),
                           "--n", "4000", "--queries", "10", "--json", str(out), "--out", str(table)],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))

    vectors = result["vectors"]
    assert vectors["n"] == 4000 and 0 < vectors["real"] < 4000  # the subset has fewer: copies were made
    assert vectors["copies"] == 4000 - vectors["real"] and vectors["sigma"] > 0
    assert 0.5 < vectors["copy_cosine_mean"] < 1.0  # noisy, yet near their originals
    assert result["queries"]["n"] == 10 and result["commit"] and "clean" in result
    assert result["machine"]["cores"] >= 1

    backends = result["backends"]
    assert set(backends) == {"exact (FAISS flat)", "local HNSW (FAISS)", "Milvus HNSW"}
    for name, b in backends.items():
        assert 0.0 <= b["recall_at_10"] <= 1.0, name
        assert 0 < b["p50_ms"] <= b["p95_ms"], name
    assert backends["exact (FAISS flat)"]["recall_at_10"] == 1.0  # IndexFlatIP agrees with numpy's brute force
    assert backends["local HNSW (FAISS)"]["recall_at_10"] >= 0.9
    assert backends["Milvus HNSW"]["recall_at_10"] >= 0.9
    assert backends["Milvus HNSW"]["params"]["index"][0]["index_type"] == "HNSW"
    assert "| Milvus HNSW |" in table.read_text(encoding="utf-8") and "| Milvus HNSW |" in proc.stdout


def test_scale_bench_refuses_a_folder_without_an_index(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "milvus_scale.py"), "--index", str(tmp_path),
                           "--n", "100", "--queries", "1", "--json", str(tmp_path / "x.json")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 1
    assert proc.stderr.startswith("milvus_scale: ") and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()
