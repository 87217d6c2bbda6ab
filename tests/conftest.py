"""Fixtures shared by the end-to-end tests: real data, a real index, the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()
SAMPLE = ROOT / "corpus" / "sample"
SEED = SAMPLE / "immune-cell-therapy-review.zh-en.txt"
CAR_T = re.compile(r"\bCAR[- ]?T\b|chimeric antigen receptor", re.I)


def run_cli(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    """`oncosearch ARGS` in a fresh process, as a user or cron would run it."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "search.cli", *args], capture_output=True, text=True, env=full_env, cwd=ROOT,
        timeout=900,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"oncosearch {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def run_json(*args: str, env: dict | None = None) -> dict:
    proc = run_cli(*args, "--json", env=env, check=True)
    return json.loads(proc.stdout)


def pytest_sessionstart(session) -> None:
    """Without ../shared the whole run stops at once with one line: no test skips quietly."""
    if not SHARED.is_dir():
        pytest.exit(f"../shared not found at {SHARED}: the tests read real data from it (CI lays it beside the "
                    "clone; a developer checks it out beside the repository)", returncode=1)


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def sample_subset(tmp_path_factory) -> tuple[Path, list[str]]:
    """A JSONL of real sample records: every CAR-T abstract plus the first 200 others (ids returned)."""
    from corpus import read_file

    records = read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records
    car_t = [r for r in records if CAR_T.search(r.text("en"))]
    others = [r for r in records if not CAR_T.search(r.text("en"))][:200]
    path = tmp_path_factory.mktemp("data") / "subset.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for r in car_t + others:
            f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    return path, [r.id for r in car_t + others]


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, sample_subset) -> Path:
    """A real index (USE vectors, FAISS, SQLite, BM25) of the subset plus the bilingual seed page."""
    index = tmp_path_factory.mktemp("index") / "idx"
    summary = run_json("index", "build", str(sample_subset[0]), str(SEED), "--index", str(index))
    assert summary["index_records"] == len(sample_subset[1]) + 1
    return index
