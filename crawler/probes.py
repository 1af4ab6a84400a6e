"""Self-check probes (issue 16 item 6; the idea of Maigret's ``--self-check``): crawl, per
platform, a canary account known to be live and an id known to be absent, and say whether the
platform's parser still reads it right.

Canaries are TOML (``crawler/data/canaries.toml`` unless ``WANGZI_CANARIES`` or
``--canaries`` names another): per platform, ``live`` (a handle, id or profile URL),
``followers = [LOW, HIGH]`` (a plausible range for the live account) and ``absent`` (an id
that does not exist). ``wangzi health --probe`` crawls them like a lookup (one run, trigger
``probe``) and classifies each platform from what the run stored:

======================  ==========================================================================
``drift``               the live account's answer was ``unrecognized``, its follower count was not
                        read or is outside the range, or it came back ``not_found``/``private``;
                        or the absent id's answer was ``unrecognized``
``wrong-absence``       the absent id came back as a profile (or as ``private``: "it exists")
``blocked``             no verdict on the parser: refused (``blocked``, ``captcha``,
                        ``login_required``, ``rate_limited``) or no usable answer (``http_error``,
                        ``network``, ``refused``, nothing asked)
``ok``                  the live account read within its range and the absent id ``not_found``
======================  ==========================================================================

A platform takes the worst of its two checks in that order. Each result is stored
(``proberesult``); a scheduled crawl skips a platform whose newest result is ``drift``
(``crawler/schedule.py``), and ``wangzi runs`` says so.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from records import PLATFORMS, AccountRef

#: The canaries shipped with Wangzi.
BUNDLED_CANARIES = Path(__file__).parent / "data" / "canaries.toml"
#: Statuses, worst first: a platform takes the worst of its live and absent checks.
STATUSES = ("drift", "wrong-absence", "blocked", "ok")
#: Failure kinds that refuse us (no verdict on the parser).
REFUSALS = frozenset({"blocked", "captcha", "login_required", "rate_limited"})


class CanaryError(ValueError):
    """The canaries file cannot be used (the message says where and why)."""


@dataclass(frozen=True)
class Canary:
    """One platform's canaries."""

    platform: str
    live: AccountRef
    followers: tuple[int, int]
    absent: AccountRef


@dataclass(frozen=True)
class Outcome:
    """What a probe run stored for one canary account: its profile's follower count (when a
    snapshot was stored) and its failure kinds."""

    profile: bool = False
    followers: int | None = None
    display_name: str | None = None
    parser: str | None = None
    failures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A platform's probe result."""

    platform: str
    status: str
    detail: str
    parser: str
    parser_version: str

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform, "status": self.status, "detail": self.detail,
                "parser": self.parser, "parser_version": self.parser_version}


def _account(platform: str, value: Any, where: str) -> AccountRef:
    from spiders.pages.registry import normalize_account

    if not isinstance(value, (str, int)) or not str(value).strip():
        raise CanaryError(f"{where}: expected a handle, id or profile URL, got {value!r}")
    try:
        return normalize_account(platform, str(value))
    except ValueError as exc:
        raise CanaryError(f"{where}: {exc}") from None


def load_canaries(path: str | Path | None = None) -> dict[str, Canary]:
    """Canaries from ``path``, else the ``WANGZI_CANARIES`` setting, else the bundled file."""
    from crawler.runner import crawl_settings

    chosen = Path(path or crawl_settings().get("WANGZI_CANARIES") or BUNDLED_CANARIES)
    try:
        document = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CanaryError(f"canaries file {chosen} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise CanaryError(f"canaries file {chosen} is not valid TOML: {exc}") from None
    canaries = {}
    for platform, table in document.items():
        where = f"{chosen} [{platform}]"
        if platform not in PLATFORMS:
            raise CanaryError(f"{where} is not a platform; known: {', '.join(PLATFORMS)}")
        if not isinstance(table, dict) or set(table) != {"live", "followers", "absent"}:
            raise CanaryError(f"{where}: give exactly live, followers = [LOW, HIGH] and absent")
        low_high = table["followers"]
        if (not isinstance(low_high, list) or len(low_high) != 2 or not all(isinstance(n, int) and n >= 0 for n in low_high)
                or low_high[0] > low_high[1]):
            raise CanaryError(f"{where} followers: expected [LOW, HIGH], two whole numbers, LOW <= HIGH; got {low_high!r}")
        canaries[platform] = Canary(platform, _account(platform, table["live"], f"{where} live"), (low_high[0], low_high[1]),
                                    _account(platform, table["absent"], f"{where} absent"))
    return canaries


def _name(ref: AccountRef) -> str:
    return ref.handle or ref.platform_user_id or "?"


def _no_profile(kinds: tuple[str, ...], who: str) -> tuple[str, str]:
    """(status, detail) for a canary that gave no profile."""
    if "unrecognized" in kinds:
        return "drift", f"{who}'s answer is unrecognized"
    refused = [k for k in kinds if k in REFUSALS]
    if refused:
        return "blocked", f"{who}: {refused[0]}"
    if kinds:
        return "blocked", f"{who}: no usable answer ({kinds[0]})"
    return "blocked", f"{who}: nothing was asked or stored (missing credentials?)"


def classify(canary: Canary, live: Outcome, absent: Outcome) -> tuple[str, str]:
    """(status, detail) of one platform from what its two canaries gave (module docstring)."""
    checks: list[tuple[str, str]] = []
    who = f"live canary {_name(canary.live)}"
    low, high = canary.followers
    if live.profile:
        if live.followers is None:
            checks.append(("drift", f"{who}: no follower count read"))
        elif not low <= live.followers <= high:
            checks.append(("drift", f"{who}: {live.followers:,} followers, outside [{low:,}, {high:,}]"))
        else:
            checks.append(("ok", f"{who}: {live.followers:,} followers"))
    elif any(k in ("not_found", "private") for k in live.failures) and "unrecognized" not in live.failures:
        kind = next(k for k in live.failures if k in ("not_found", "private"))
        checks.append(("drift", f"{who} came back {kind}: the parser misreads the answer, or the canary is gone"))
    else:
        checks.append(_no_profile(live.failures, who))
    who = f"absent canary {_name(canary.absent)}"
    if absent.profile:
        shown = f" ({absent.display_name!r}, {absent.followers:,} followers)" if absent.followers is not None else ""
        checks.append(("wrong-absence", f"{who} came back as a profile{shown}"))
    elif "not_found" in absent.failures and "unrecognized" not in absent.failures:
        checks.append(("ok", f"{who}: not_found"))
    elif "private" in absent.failures and "unrecognized" not in absent.failures:
        checks.append(("wrong-absence", f"{who} came back private: the platform says it exists"))
    else:
        checks.append(_no_profile(absent.failures, who))
    status = min((s for s, _ in checks), key=STATUSES.index)
    details = [d for s, d in checks if s == status] if status != "ok" else [d for _, d in checks]
    return status, "; ".join(details)


def probe(
    database_url: str | None, canaries: dict[str, Canary], *, replay: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[int, list[Verdict]]:
    """Crawl the canaries as one ``probe`` run, classify every platform and store the results;
    returns (run id, verdicts)."""
    from crawler.runner import run_crawl
    from spiders.pages.registry import platform_module
    from storage.candidates import find_account
    from storage.db import session_scope
    from storage.drift_captures import drift_captures
    from storage.probe_results import add_probe_results
    from storage.runs import run_failures, run_snapshots

    targets = {p: [c.live, c.absent] for p, c in canaries.items()}
    run_id = run_crawl(targets, trigger="probe", database_url=database_url, replay=replay, overrides=overrides)
    verdicts = []
    with session_scope(database_url) as session:
        snapshots = {account.id: snap for account, snap in run_snapshots(session, run_id)}
        failures: dict[int | None, list[str]] = {}
        for failure in run_failures(session, run_id):
            failures.setdefault(failure.account_id, []).append(failure.kind)

        def outcome(ref: AccountRef) -> Outcome:
            account = find_account(session, ref)
            if account is None:
                return Outcome()
            snap = snapshots.get(account.id)
            return Outcome(profile=snap is not None, followers=snap.followers if snap else None,
                           display_name=snap.display_name if snap else None, parser=snap.parser if snap else None,
                           failures=tuple(failures.get(account.id, ())))

        for platform, canary in canaries.items():
            live = outcome(canary.live)
            status, detail = classify(canary, live, outcome(canary.absent))
            drifted = [c for c in drift_captures(session, platform) if c.crawl_run_id == run_id]
            parser = drifted[0].parser if drifted else (live.parser or platform)
            version = str(getattr(platform_module(platform), "PARSER_VERSION", "?"))
            verdicts.append(Verdict(platform, status, detail, parser, version))
        add_probe_results(session, [{**v.to_json(), "crawl_run_id": run_id} for v in verdicts])
    return run_id, verdicts
