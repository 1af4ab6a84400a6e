"""Shared fixtures: a fresh database per test (SQLite file by default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A migrated, empty database for one test."""
    from storage.db import upgrade

    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


@pytest.fixture(autouse=True)
def _no_stray_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Code that forgets to pass a URL must not write ./wangzi.db in the repo."""
    monkeypatch.setenv("DATABASE_URL", os.environ.get("WANGZI_TEST_DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}"))
