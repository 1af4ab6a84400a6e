"""Credentials (cookies, API keys, tokens): where spiders get them.

Secrets come only from the environment (``WANGZI_<PLATFORM>_COOKIE``, ``YOUTUBE_API_KEY``,
``WANGZI_X_AUTH_TOKEN`` ...) or from a TOML secrets file named by ``WANGZI_SECRETS_FILE``
that only its owner may read (mode 600 or stricter; anything looser is refused, as ssh
does). They are never put in Scrapy settings (whose overrides Scrapy logs); spiders read them
here when they build requests. Keeping them out of output is the crawler's part
(:mod:`crawler.extensions.redaction` redacts log records; the HAR recorder redacts headers and keys).
"""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

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


# --------------------------------------------------------------------------- proxies (issue 17)


class ProxyProblem(ValueError):
    """The proxy configuration cannot be used (the message never names a credential)."""


@dataclass(frozen=True)
class ProxyConfig:
    """One forward proxy: ``url`` (may carry ``user:password@``: a secret, never logged, recorded
    or stored), ``name`` (what logs, tables and ``wangzi proxies list`` show: the label given,
    else ``host:port``) and free labels such as ``region``."""

    name: str
    url: str = field(repr=False)
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        """``scheme://host:port``, without credentials (safe to print)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}:{parts.port}" if parts.port else f"{parts.scheme}://{parts.hostname}"


def parse_proxies(text: str, where: str = "WANGZI_PROXIES") -> list[ProxyConfig]:
    """Proxies, one per line or comma-separated: ``URL [name=LABEL] [region=jp] ...``.
    ``#`` starts a comment. A URL without a port or of another scheme than http(s) is refused."""
    proxies: list[ProxyConfig] = []
    entries = [part for raw in text.splitlines() for part in raw.split("#", 1)[0].split(",")]
    for number, entry in enumerate((e.strip() for e in entries), 1):
        if not entry:
            continue
        url, *pairs = entry.split()
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ProxyProblem(f"{where}: entry {number} is not an http(s) proxy URL (scheme://[user:password@]host:port)")
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None:
            raise ProxyProblem(f"{where}: entry {number} ({parts.hostname}) has no port")
        labels = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ProxyProblem(f"{where}: entry {number}: {pair!r} is not a label (name=value)")
            labels[key] = value
        name = labels.pop("name", None) or f"{parts.hostname}:{port}"
        if any(p.name == name for p in proxies):
            raise ProxyProblem(f"{where}: two proxies are named {name!r}")
        proxies.append(ProxyConfig(name=name, url=url, labels=labels))
    return proxies


def configured_proxies(environ: dict[str, str] | None = None) -> list[ProxyConfig]:
    """``WANGZI_PROXIES`` (the environment, then the secrets file), else the file named by
    ``WANGZI_PROXIES_FILE`` (owner-only, as any file holding secrets). Empty: no proxies."""
    env = os.environ if environ is None else environ
    text = env.get("WANGZI_PROXIES") if environ is not None else get_secret("WANGZI_PROXIES")
    if text and text.strip():
        return parse_proxies(text)
    path = (env.get("WANGZI_PROXIES_FILE") or "").strip()
    if not path:
        return []
    file = Path(path).expanduser()
    check_owner_only(file)
    return parse_proxies(file.read_text(encoding="utf-8"), str(file))


# --------------------------------------------------------------------------- sessions (issue 17)


@dataclass(frozen=True)
class SessionConfig:
    """One logged-in session of one platform: its ``name`` (shown by ``wangzi sessions list``),
    its secret ``values`` (cookies or tokens: never logged or stored) and the proxy it must
    always go out through (``proxy``, a proxy's name; empty: assigned by the pool, then sticky)."""

    platform: str
    name: str
    values: dict[str, str] = field(repr=False)
    proxy: str = ""


def _session_entries(platform: str, raw: object, where: str) -> list[SessionConfig]:
    if isinstance(raw, dict):  # {name: {values}} (TOML tables) or one session's values
        items = list(raw.items()) if all(isinstance(v, dict) for v in raw.values()) else [("", raw)]
    elif isinstance(raw, list):
        items = [(str(x.get("name", "")) if isinstance(x, dict) else "", x) for x in raw]
    else:
        raise ValueError(f"{where}: expected a list of sessions or a table of them")
    sessions = []
    for number, (name, values) in enumerate(items, 1):
        if not isinstance(values, dict):
            raise ValueError(f"{where}: session {number} is not a table of values")
        values = {str(k): str(v) for k, v in values.items() if isinstance(v, (str, int))}
        name = str(values.pop("name", "") or name or f"{platform}-{number}")
        proxy = str(values.pop("proxy", ""))
        if not values:
            raise ValueError(f"{where}: session {name!r} has no values (cookie or tokens)")
        sessions.append(SessionConfig(platform=platform, name=name, values=values, proxy=proxy))
    return sessions


def platform_sessions(platform: str, environ: dict[str, str] | None = None) -> list[SessionConfig]:
    """Every configured session of ``platform``: ``WANGZI_<PLATFORM>_SESSIONS`` (a JSON list of
    objects such as ``{"name": "a", "cookie": "..."}`` or, for X, ``{"name": "a",
    "auth_token": "...", "ct0": "..."}``), then the secrets file's ``[sessions.<platform>.<name>]``
    tables. A session only ever serves its own platform."""
    env = os.environ if environ is None else environ
    name = f"WANGZI_{platform.upper()}_SESSIONS"
    found: list[SessionConfig] = []
    text = (env.get(name) or "").strip()
    if text:
        try:
            raw = json.loads(text)
        except ValueError:
            raise ValueError(f"{name} is not JSON (a list of objects)") from None
        found += _session_entries(platform, raw, name)
    file = env.get("WANGZI_SECRETS_FILE") if environ is not None else os.environ.get("WANGZI_SECRETS_FILE")
    if file:
        path = Path(file)
        check_owner_only(path)
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        tables = (document.get("sessions") or {}).get(platform)
        if tables:
            found += _session_entries(platform, tables, f"{file} [sessions.{platform}]")
    names = [s.name for s in found]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValueError(f"{platform} sessions named twice: {', '.join(duplicated)}")
    return found


def _nested_strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _nested_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _nested_strings(v)]
    return [str(value)] if isinstance(value, (str, int)) and not isinstance(value, bool) else []


def secret_values() -> list[str]:
    """Every secret value currently configured (environment and secrets file, sessions and
    proxy credentials included)."""
    values = [v for k, v in os.environ.items() if SECRET_NAME.search(k) and v]
    file = os.environ.get("WANGZI_SECRETS_FILE")
    if file and Path(file).exists():
        try:
            values += list(load_secrets_file(file).values())
            document = tomllib.loads(Path(file).read_text(encoding="utf-8"))
            values += [v for v in _nested_strings(document.get("sessions") or {}) if v]
        except (InsecureSecretsFile, OSError, tomllib.TOMLDecodeError):
            pass
    for name, raw in os.environ.items():
        if name.startswith("WANGZI_") and name.endswith("_SESSIONS") and raw.strip():
            try:
                values += [v for v in _nested_strings(json.loads(raw)) if v]
            except ValueError:
                values.append(raw)
    try:
        for proxy in configured_proxies():
            parts = urlsplit(proxy.url)
            values += [v for v in (parts.password, f"{parts.username}:{parts.password}" if parts.password else None) if v]
    except (ValueError, OSError):
        pass
    parts: set[str] = set()
    for value in values:
        parts.add(value)
        # A cookie header's individual values leak on their own too ("SESSDATA=abc; ct0=def").
        for piece in re.split(r"[;,&]\s*", value):
            _, _, cookie_value = piece.partition("=")
            parts.add(cookie_value.strip() or piece.strip())
    return sorted((p for p in parts if len(p) >= MIN_SECRET_LENGTH), key=len, reverse=True)
