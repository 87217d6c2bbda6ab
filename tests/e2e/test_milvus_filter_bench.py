"""bench/milvus_filter.py end to end at a tiny size: both ways of a filtered Milvus search on the same
queries and allow-lists, the same records either way, and the way `nearest` takes by default."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_filter_bench_compares_both_ways_on_the_same_records(tmp_path):
    pytest.importorskip("pymilvus")
    out = tmp_path / "filter.json"
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "milvus_filter.py"), "--records", "3000",
                           "--dim", "16", "--queries", "3", "-k", "20", "--json", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["records"] == 3000 and result["git"]["commit"] and result["load_s"] > 0
    rows = result["rows"]
    assert [r["share"] for r in rows] == [0.5, 0.2, 0.1, 0.05, 0.02]
    for r in rows:
        assert r["allowed"] == int(3000 * r["share"]) and r["expression_chars"] > 0
        assert r["same_records"] is True  # FLAT: both ways exact
        assert r["list_sent_median_ms"] > 0 and r["oversampled_median_ms"] > 0
        assert r["default_way"] == "list sent"  # 3,000 records: every list is short
    assert "| 0.5 | 1,500 |" in proc.stdout
