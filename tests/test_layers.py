"""The layering holds: imports only go down (records < storage < enrichment < spiders' page
modules < spiders < crawler), and a page module can be imported without Scrapy or Twisted.

The contracts live in pyproject.toml ([tool.importlinter]); CONTRIBUTING.md draws them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from records import PLATFORMS
from spiders.pages.registry import SOURCES

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("records", "storage", "enrichment", "spiders", "crawler")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("storage/candidates.py", "import crawler.cli  # noqa", "Imports go down the layers"),
        ("records/items.py", "import storage.db  # noqa", "Imports go down the layers"),
        ("spiders/pages/bilibili.py", "import scrapy  # noqa", "Page modules are pure"),
        ("spiders/pages/weibo.py", "import spiders.base  # noqa", "spider modules use the page modules"),
    ],
)
def test_an_import_against_the_layers_breaks_a_contract(tmp_path: Path, module: str, line: str, broken: str) -> None:
    """The contracts are not vacuous: one upward import in a copy of the tree fails them."""
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.har"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert broken in result.stdout and "BROKEN" in result.stdout


@pytest.mark.parametrize("name", [*PLATFORMS, *SOURCES, "payload", "status", "parsing", "registry", "identity"])
def test_a_page_module_imports_without_scrapy_or_twisted(name: str) -> None:
    """``wangzi parse``, the fixture tests and storage use parsers with no crawler loaded."""
    code = (
        "import importlib, sys\n"
        f"importlib.import_module('spiders.pages.{name}')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in {'scrapy', 'twisted', 'scrapy_playwright', 'playwright'})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"spiders.pages.{name} pulled in {result.stdout.strip()}"
