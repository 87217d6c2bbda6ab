"""Fixtures of the server tests: the app in process over the shared test index, and the real
server process on 127.0.0.1 (started and stopped by the suite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from corpus.readers import read_file
from index.pipeline import write_index
from search.server.app import create_app
from search.server.settings import ServerSettings
from tests.conftest import SAMPLE
from tests.server.server_run import Served, serving


@pytest.fixture(scope="module")
def app(built_index: Path):
    return create_app(ServerSettings(index_dir=built_index))


@pytest.fixture(scope="module")
def client(app) -> Iterator[TestClient]:
    """The API in process (its lifespan opens the index once per module)."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def server(built_index: Path, tmp_path_factory) -> Iterator[Served]:
    """`oncosearch serve` over the shared test index, as a process on a free loopback port."""
    with serving(built_index, log_dir=tmp_path_factory.mktemp("serve")) as served:
        yield served


@pytest.fixture(scope="session")
def server_url(server: Served) -> str:
    return server.url


@pytest.fixture(scope="session")
def files(tmp_path_factory) -> dict[str, Path]:
    """Two JSONL files of real sample records: A (12 records) and B (3 others)."""
    folder = tmp_path_factory.mktemp("live-corpus")
    records = [r for r in read_file(SAMPLE / "pubmed21n1298-oncology.xml.gz").records if r.abstract][:15]
    out = {}
    for name, recs in (("A", records[:12]), ("B", records[12:])):
        out[name] = folder / f"{name}.jsonl"
        out[name].write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in recs))
    return out


@pytest.fixture(scope="session")
def base(tmp_path_factory, files) -> Path:
    """An index of A, built once; its embedding cache already holds B (so switches embed nothing)."""
    root = tmp_path_factory.mktemp("live") / "index"
    write_index(root, [files["A"], files["B"]])
    write_index(root, [files["A"]])
    return root
