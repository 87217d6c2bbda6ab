"""Shared pieces of the crash-safety and concurrency tests: a small real corpus, a CLI runner.

The corpus: the first 30 records of the bundled PubMed sample, written as JSONL
(`Record.to_dict`), split into files A1 (12), A2 (3), B (12) and C (3). A base index over A1 + A2 is
built once per session; tests copy it (with its embedding cache, so they never load the model
unless they need new text embedded).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from safety_helpers import SAMPLE, Corpus, cli, summary_of


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    from corpus.readers import read_file

    folder = tmp_path_factory.mktemp("corpus")
    records = [r for r in read_file(SAMPLE).records if r.abstract][:30]
    assert len(records) == 30
    split = {"A1": records[:12], "A2": records[12:15], "B": records[15:27], "C": records[27:30]}
    files = {}
    for name, recs in split.items():
        files[name] = folder / f"{name}.jsonl"
        files[name].write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in recs))
    return Corpus(folder, files, {n: [r.id for r in recs] for n, recs in split.items()})


@pytest.fixture(scope="session")
def base_index(tmp_path_factory, corpus) -> Path:
    """An index of A1 + A2, built once (the one model load most tests share through its cache)."""
    index = tmp_path_factory.mktemp("base") / "index"
    proc = cli("index", "build", corpus.files["A1"], corpus.files["A2"], "--index", index, "--json", "--quiet")
    assert summary_of(proc)["index_records"] == 15
    return index


@pytest.fixture
def fresh_index(tmp_path, base_index) -> Path:
    """A private copy of the base index (generations, CURRENT and embedding cache)."""
    target = tmp_path / "index"
    shutil.copytree(base_index, target)
    return target
