"""Helpers of the tests in tests/safety (the fixtures are in conftest.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "corpus" / "sample" / "pubmed21n1298-oncology.xml.gz"


@dataclass
class Corpus:
    folder: Path
    files: dict[str, Path]
    ids: dict[str, list[str]]

    def union(self, *names: str) -> set[str]:
        return {i for n in names for i in self.ids[n]}


def cli(*args: str | Path, env: dict | None = None, timeout: float = 300, cache_home: Path | None = None
        ) -> subprocess.CompletedProcess:
    return subprocess.run(cli_cmd(*args), cwd=ROOT, env=cli_env(env, cache_home), capture_output=True, text=True,
                          timeout=timeout)


def cli_cmd(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", "from search.cli import main; main()", *map(str, args)]


def cli_env(extra: dict | None = None, cache_home: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCOSEARCH_")}
    env["PYTHONPATH"] = str(ROOT)
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home)  # search's verification memo stays in the test folder
    env.update(extra or {})
    return env


READ_IDS = """
import json, sys
from pathlib import Path
from index.storage import open_generation
print(json.dumps([rid for rid, _, _ in open_generation(Path(sys.argv[1])).record_keys()]))
"""


def index_ids(index_dir: Path) -> list[str]:
    """Record ids of the current generation (as a list: duplicates would show): from its store, or,
    for a generation that lives only in Milvus, read by another process (milvus-lite keeps its file
    open until the process exits)."""
    name = (index_dir / "CURRENT").read_text().strip()
    if not (index_dir / "generations" / name / "store.sqlite").exists():
        proc = subprocess.run([sys.executable, "-c", READ_IDS, str(index_dir)], env=cli_env(), capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout)
    conn = sqlite3.connect(f"file:{index_dir / 'generations' / name / 'store.sqlite'}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM records ORDER BY rowid")]
    finally:
        conn.close()


def summary_of(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode in (0, 3), proc.stderr[-2000:]
    return json.loads(proc.stdout)
