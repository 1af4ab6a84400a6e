"""Secrets come from the environment or an owner-only file, and never reach the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from crawler.extensions.redaction import RedactingFilter, redact
from spiders.credentials import InsecureSecretsFile, get_secret, load_secrets_file


def test_a_secrets_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text('WANGZI_WEIBO_COOKIE = "SUB=abcdef123456"\n', encoding="utf-8")
    path.chmod(0o644)
    with pytest.raises(InsecureSecretsFile, match="chmod 600"):
        load_secrets_file(path)
    path.chmod(0o600)
    assert load_secrets_file(path) == {"WANGZI_WEIBO_COOKIE": "SUB=abcdef123456"}


def test_environment_wins_over_the_secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text('YOUTUBE_API_KEY = "from-file-123"\n', encoding="utf-8")
    path.chmod(0o600)
    monkeypatch.setenv("WANGZI_SECRETS_FILE", str(path))
    assert get_secret("YOUTUBE_API_KEY") == "from-file-123"
    monkeypatch.setenv("YOUTUBE_API_KEY", "from-env-456")
    assert get_secret("YOUTUBE_API_KEY") == "from-env-456"


def test_log_lines_never_show_a_configured_secret(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("WANGZI_X_COOKIE", "auth_token=PLANTED-SECRET-1; ct0=PLANTED-CSRF-2")
    logger = logging.getLogger("wangzi.test")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("sending cookie %s", "auth_token=PLANTED-SECRET-1; ct0=PLANTED-CSRF-2")
        logger.info("token alone: PLANTED-CSRF-2")
    assert "PLANTED" not in caplog.text
    assert caplog.text.count("[REDACTED]") >= 2
    assert redact("x PLANTED-SECRET-1 y", ["PLANTED-SECRET-1"]) == "x [REDACTED] y"
