"""`make bench` and the report's "Reproduce" line name the same command, so BENCHMARKS.md says how it was made."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run", REPO / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # stdlib only at module level: cheap and safe
    return module


def test_makefile_runs_the_command_the_report_names():
    run = _run_module()
    recipe = (REPO / "Makefile").read_text().split("\nbench:", 1)[1].split("\n\n", 1)[0]
    assert f"$(PY) {run.MAKE_BENCH}" in recipe
    for section in run.MAKE_BENCH.split("--sections ", 1)[1].split()[0].split(","):
        assert section in {"indexing", "querying", "faiss", "quality", "peer", "profile", "profile_search"}
