"""Credentials (cookies, API keys, tokens): where spiders get them.

Secrets come only from the environment (``WANGZI_<PLATFORM>_COOKIE``, ``YOUTUBE_API_KEY``,
``WANGZI_X_AUTH_TOKEN`` ...) or from a TOML secrets file named by ``WANGZI_SECRETS_FILE``
that only its owner may read (mode 600 or stricter; anything looser is refused, as ssh
does). They are never put in Scrapy settings (whose overrides Scrapy logs); spiders read them
here when they build requests. Keeping them out of output is the crawler's part
(:mod:`crawler.extensions.redaction` redacts log records; the HAR recorder redacts headers and keys).
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from pathlib import Path

#: Environment variable names that hold secrets.
SECRET_NAME = re.compile(r"(COOKIE|TOKEN|API_KEY|SECRET|PASSWORD|CT0|SESSDATA)", re.IGNORECASE)
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
