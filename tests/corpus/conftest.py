"""Paths shared by the corpus tests: real export files live in ../shared beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared"
FIXTURES = SHARED / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES  # tests/conftest.py stops the run when ../shared is missing
