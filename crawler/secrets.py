"""Secrets (cookies, API keys, tokens): where they come from and keeping them out of output.

Secrets come only from the environment (``WANGZI_<PLATFORM>_COOKIE``, ``YOUTUBE_API_KEY``,
``WANGZI_X_AUTH_TOKEN`` ...) or from a TOML secrets file named by ``WANGZI_SECRETS_FILE``
that only its owner may read (mode 600 or stricter; anything looser is refused, as ssh
does). :class:`RedactingFilter` replaces every known secret value in log records, and the
HAR recorder redacts cookie/authorization headers and key parameters (``crawler.replay``).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from pathlib import Path

#: Environment variable names that hold secrets.
SECRET_NAME = re.compile(r"(COOKIE|TOKEN|API_KEY|SECRET|PASSWORD|CT0|SESSDATA)", re.IGNORECASE)
REDACTED = "[REDACTED]"
#: Values shorter than this are not treated as secrets (too likely to match ordinary text).
MIN_SECRET_LENGTH = 6


class InsecureSecretsFile(PermissionError):
    """The secrets file can be read by other users."""


def load_secrets_file(path: str | Path) -> dict[str, str]:
    """``KEY = "value"`` pairs from a TOML file readable only by its owner."""
    path = Path(path)
    check_owner_only(path)
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int))}


def check_owner_only(path: Path) -> None:
    """Refuse a secrets file that other users can read (as ssh does for keys)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureSecretsFile(
            f"{path} is readable by other users (mode {stat.filemode(mode)}); run `chmod 600 {path}`"
        )


def platform_cookie(platform: str, environ: dict[str, str] | None = None) -> str | None:
    """A platform's optional login cookie (a ``Cookie:`` header value): ``WANGZI_<PLATFORM>_COOKIE``,
    else the owner-only file named by ``WANGZI_<PLATFORM>_COOKIE_FILE``. Never logged."""
    env = os.environ if environ is None else environ
    name = f"WANGZI_{platform.upper()}_COOKIE"
    value = (env.get(name) or "").strip()
    if value:
        return value
    path = (env.get(f"{name}_FILE") or "").strip()
    if not path:
        return None
    file = Path(path).expanduser()
    check_owner_only(file)
    return file.read_text(encoding="utf-8").strip() or None


def cookie_dict(header: str) -> dict[str, str]:
    """``"a1=x; web_session=y"`` -> ``{"a1": "x", "web_session": "y"}``."""
    pairs = (part.strip().partition("=") for part in header.split(";"))
    return {name.strip(): value.strip() for name, sep, value in pairs if sep and name.strip()}


def get_secret(name: str) -> str | None:
    """A secret by name: the environment first, then the secrets file."""
    value = os.environ.get(name)
    if value:
        return value
    file = os.environ.get("WANGZI_SECRETS_FILE")
    if file:
        return load_secrets_file(file).get(name) or None
    return None


def secret_values() -> list[str]:
    """Every secret value currently configured (environment and secrets file)."""
    values = [v for k, v in os.environ.items() if SECRET_NAME.search(k) and v]
    file = os.environ.get("WANGZI_SECRETS_FILE")
    if file and Path(file).exists():
        try:
            values += list(load_secrets_file(file).values())
        except (InsecureSecretsFile, OSError, tomllib.TOMLDecodeError):
            pass
    parts: set[str] = set()
    for value in values:
        parts.add(value)
        # A cookie header's individual values leak on their own too ("SESSDATA=abc; ct0=def").
        for piece in re.split(r"[;,&]\s*", value):
            _, _, cookie_value = piece.partition("=")
            parts.add(cookie_value.strip() or piece.strip())
    return sorted((p for p in parts if len(p) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: list[str] | None = None) -> str:
    for value in secrets if secrets is not None else secret_values():
        text = text.replace(value, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Replaces secret values in every log record (message and arguments)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = secret_values()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (call after logging is set up)."""
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)


class RedactionExtension:
    """Scrapy extension: installs :class:`RedactingFilter` when a crawler starts, so
    ``scrapy crawl`` and ``wangzi`` logs never show a configured secret."""

    @classmethod
    def from_crawler(cls, crawler: object) -> "RedactionExtension":
        install_log_redaction()
        return cls()
