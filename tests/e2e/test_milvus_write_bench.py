"""bench/milvus_write.py end to end at a tiny size: 20 records of the bundled sample built and then
updated with 5 more, on local files, on milvus-lite with local files and on milvus-lite alone, from a
warm cache filled once beforehand."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpus" / "sample" / "pubmed21n1298-oncology.xml.gz"

pytestmark = pytest.mark.slow


def bench(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "bench" / "milvus_write.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=timeout)


def test_write_bench_times_build_and_update_on_every_backend(tmp_path):
    pytest.importorskip("pymilvus")
    from corpus.readers import read_file

    source = tmp_path / "source.jsonl"
    source.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                              for r in read_file(SAMPLE).records[:20]), encoding="utf-8")
    out, table, work = tmp_path / "write.json", tmp_path / "write.md", tmp_path / "work"
    proc = bench("--source", source, "--add", SAMPLE, "--add-records", "5", "--workdir", work,
                 "--json", out, "--out", table)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))

    assert result["corpus"]["source_records"] == 20 and result["corpus"]["add_records"] == 5
    assert result["prepare"]["embedded_chunks"] > 0  # no --cache-from: the prepare step embedded the texts
    assert result["commit"] and "clean" in result and result["machine"]["cores"] >= 1
    [only] = result["rounds"]
    assert only["order"] == ["local", "milvus", "milvus-only"]  # round 1: local first
    for backend in ("local", "milvus", "milvus-only"):
        run = only["runs"][backend]
        assert run["build"]["index_records"] == 20 and run["update"]["index_records"] == 25, backend
        assert run["update"]["added"] == 5, backend
        for step in ("build", "update"):
            assert run[step]["wall_s"] > run[step]["seconds"] > 0, (backend, step)
            assert run[step]["embedded_chunks"] == 0 and run[step]["cache_rows_added"] == 0, (backend, step)
        assert run["index_bytes"] > 0
    local = only["runs"]["local"]
    assert local["build"]["milvus"] is None and local["milvus_lite_bytes"] is None
    b = result["backends"]
    for backend in ("milvus", "milvus-only"):
        milvus = only["runs"][backend]
        assert milvus["build"]["milvus"]["added"] == 20 and milvus["build"]["milvus"]["kept"] == 0
        assert milvus["update"]["milvus"]["added"] == 5 and milvus["update"]["milvus"]["kept"] == 20  # incremental
        assert milvus["update"]["milvus"]["retired"] == 0 and milvus["milvus_lite_bytes"] > 0
        assert 0 < milvus["update"]["milvus"]["seconds"] < milvus["update"]["wall_s"]
        assert b[backend]["build_s"] == milvus["build"]["wall_s"]
        assert result["ratio"][backend]["build"] == pytest.approx(b[backend]["build_s"] / b["local"]["build_s"])
        assert result["ratio"][backend]["update"] == pytest.approx(b[backend]["update_s"] / b["local"]["update_s"])
    assert b["local"]["update_s"] == local["update"]["wall_s"]
    # no local generation: the index folder of Milvus alone holds manifests only
    assert only["runs"]["milvus-only"]["index_bytes"] < local["index_bytes"] / 20
    md = table.read_text(encoding="utf-8")
    assert "| local |" in md and "| milvus |" in md and "| milvus-only |" in md and md in proc.stdout
    assert "| milvus / local |" in md and "| milvus-only / local |" in md
    assert not any(work.glob("round-*")) and not (work / "master").exists()  # cleaned up without --keep


def test_write_bench_refuses_a_file_with_too_few_new_records(tmp_path):
    source = tmp_path / "source.jsonl"
    from corpus.readers import read_file

    records = read_file(SAMPLE).records[:3]
    source.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    proc = bench("--source", source, "--add", source, "--add-records", "1", "--workdir", tmp_path / "work",
                 "--json", tmp_path / "x.json", timeout=300)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("milvus_write: ") and "not 1" in last and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_write_bench_leaves_nothing_in_a_milvus_it_was_given(tmp_path):
    """With --milvus-uri the Milvus outlives the round: each round drops the mirrors and pools it wrote."""
    pytest.importorskip("pymilvus")
    from pymilvus import MilvusClient

    from corpus.readers import read_file

    source = tmp_path / "source.jsonl"
    source.write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n"
                              for r in read_file(SAMPLE).records[:8]), encoding="utf-8")
    db = tmp_path / "given.db"
    proc = bench("--source", source, "--add", SAMPLE, "--add-records", "2", "--workdir", tmp_path / "work",
                 "--milvus-uri", db, "--json", tmp_path / "w.json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "w.json").read_text(encoding="utf-8"))
    assert result["milvus_uri"] == str(db) and result["milvus_uri_kind"] == "milvus-lite"
    for backend in ("milvus", "milvus-only"):
        milvus = result["rounds"][0]["runs"][backend]
        assert milvus["update"]["milvus"]["added"] == 2 and milvus["update"]["milvus"]["kept"] == 8
        assert milvus["milvus_lite_bytes"] is None  # not the round's own file: its size is not the round's
    client = MilvusClient(str(db))
    try:
        assert client.list_collections() == []
    finally:
        client.close()
