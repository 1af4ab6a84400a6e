"""`scripts/audit.sh` (pip-audit over the installed dependencies, PyPI advisory data) finds no
known vulnerability. Skips, saying why, when PyPI's JSON API cannot be reached (offline CI) or
when WANGZI_AUDIT=0."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

import pytest

from tests.helpers import REPO

PROBE = "https://pypi.org/pypi/pip/json"


def _reachable() -> str | None:
    """None when PyPI answers, else why not."""
    try:
        with urllib.request.urlopen(PROBE, timeout=8) as response:  # noqa: S310 - fixed https URL
            return None if response.status == 200 else f"{PROBE} answered {response.status}"
    except OSError as exc:
        return f"{PROBE} unreachable ({type(exc).__name__}: {exc})"


@pytest.mark.slow
def test_installed_dependencies_have_no_known_vulnerabilities() -> None:
    if os.environ.get("WANGZI_AUDIT", "1") == "0":
        pytest.skip("WANGZI_AUDIT=0: dependency audit switched off")
    reason = _reachable()
    if reason:
        pytest.skip(f"pip-audit needs PyPI's vulnerability data: {reason}")
    done = subprocess.run(["sh", "scripts/audit.sh", "-f", "json"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    dependencies = report["dependencies"] if isinstance(report, dict) else report
    vulnerable = [f"{d['name']} {d['version']}: {', '.join(v['id'] for v in d['vulns'])}"
                  for d in dependencies if d.get("vulns")]
    assert len(dependencies) > 20, "pip-audit saw suspiciously few packages"
    assert not vulnerable, "known vulnerabilities:\n" + "\n".join(vulnerable)
