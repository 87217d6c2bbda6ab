"""Fixtures of the server tests: the app in process over the shared test index, and the real
server process on 127.0.0.1 (started and stopped by the suite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from search.server.app import create_app
from search.server.settings import ServerSettings
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
