"""Fixtures shared by the in-process CLI tests of tests/search."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def isolated_cli(monkeypatch):
    """A wide terminal (rich wraps tables and help at its width), no default index from the environment,
    and the root logger as it was: write commands point it at CliRunner's streams, closed after the call."""
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.delenv("ONCOSEARCH_INDEX", raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)
