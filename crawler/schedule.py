"""Scheduled crawls: the refresh policy, picking what is due, and holding it with leases.

``wangzi crawl --due`` (from cron, a systemd timer, a Kubernetes CronJob, Airflow...) asks
:func:`claim_due` for the accounts whose data is older than the policy allows, crawls only
those, and :func:`settle_owner` records the outcome. Each account is claimed through its
:class:`storage.models.Lease` row, so two overlapping runs never crawl the same account, and a
run killed with SIGKILL leaves leases that expire (or whose process is visibly gone) and are
settled by the next run from what the database holds: finished accounts are not crawled
again, the others are.

The policy is TOML (``crawler/data/refresh.toml`` is the default; see its comments).
"""

from __future__ import annotations

import logging
import re
import tomllib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy.spiderloader import SpiderLoader

from crawler.runner import crawl_settings, run_crawl
from records import PLATFORMS, AccountRef
from storage.candidates import account_refs, list_candidates
from storage.db import database_url as resolve_url
from storage.db import session_scope
from storage.leases import (
    assign_run,
    claim,
    ensure_leases,
    held_by,
    leases,
    new_owner,
    settle,
    settle_accounts,
    stale_leases,
    with_retries,
)
from storage.models import utcnow
from storage.runs import interrupt_dead_runs, start_run

logger = logging.getLogger(__name__)

#: The policy shipped with Wangzi, used when ``WANGZI_REFRESH_POLICY`` names no other.
BUNDLED_POLICY_FILE = Path(__file__).parent / "data" / "refresh.toml"
#: What a platform account's crawl refreshes, and what a candidate's press search refreshes.
#: ``profiles``: counts, name, bio, verification; ``details``: the slow-changing facts (country,
#: IP location, joined date, links); ``posts``: recent posts. Each spider source names the facts
#: it gives (spiders.base.FACT_KINDS), so a crawl asks only the endpoints of the kinds due.
ACCOUNT_KINDS: tuple[str, ...] = ("profiles", "details", "posts")
PRESS_KINDS: tuple[str, ...] = ("press",)
KINDS = ACCOUNT_KINDS + PRESS_KINDS
#: The lease "platform" under which a candidate's press refresh is tracked.
PRESS = "press"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class PolicyError(ValueError):
    """The refresh policy file cannot be used (the message says where and why)."""


def parse_duration(value: Any, where: str = "duration") -> timedelta | None:
    """``"30m"``, ``"12h"``, ``"1d"``, ``"2w"``, ``"90s"`` or seconds; ``"off"``/``false`` -> None."""
    if value is False or (isinstance(value, str) and value.strip().lower() in {"off", "never", "no"}):
        return None
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like '1d' or 'off', got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(value).lower())
        if not match:
            raise PolicyError(f"{where}: {value!r} is not a duration (use e.g. 90s, 30m, 12h, 1d, 2w or off)")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if seconds <= 0:
        raise PolicyError(f"{where}: a duration must be positive (or 'off'), got {value!r}")
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class RefreshPolicy:
    """How often each kind of data is refreshed, per platform, and how leases behave."""

    default: dict[str, timedelta | None]
    platforms: dict[str, dict[str, timedelta | None]] = field(default_factory=dict)
    lease_ttl: timedelta = timedelta(minutes=30)
    transient_retry: timedelta = timedelta(hours=1)
    distributed_ttl: timedelta = timedelta(days=1)
    source: str = "built-in"

    @classmethod
    def load(cls, path: str | Path | None = None) -> RefreshPolicy:
        """The policy from ``path``, else from the ``WANGZI_REFRESH_POLICY`` setting (which the
        environment variable of that name sets), else the bundled one."""
        chosen = Path(path or crawl_settings().get("WANGZI_REFRESH_POLICY") or BUNDLED_POLICY_FILE)
        try:
            document = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"refresh policy {chosen} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"refresh policy {chosen} is not valid TOML: {exc}") from None
        return cls.from_dict(document, source=str(chosen))

    @classmethod
    def from_dict(cls, document: dict[str, Any], source: str = "dict") -> RefreshPolicy:
        unknown = set(document) - {"default", "platforms", "lease"}
        if unknown:
            raise PolicyError(f"{source}: unknown section(s) {sorted(unknown)}; use [default], [platforms.NAME], [lease]")
        defaults = {"profiles": "1d", "details": "7d", "posts": "1d", "press": "7d", **document.get("default", {})}
        default = cls._kinds(defaults, f"{source} [default]")
        platforms = {}
        for name, kinds in (document.get("platforms") or {}).items():
            if name not in PLATFORMS and name != PRESS:
                raise PolicyError(f"{source}: [platforms.{name}] is not a platform; known: {', '.join(PLATFORMS)}")
            platforms[name] = cls._kinds(kinds, f"{source} [platforms.{name}]")
        lease = document.get("lease") or {}
        extra = set(lease) - {"ttl", "transient_retry", "distributed_ttl"}
        if extra:
            raise PolicyError(f"{source} [lease]: unknown key(s) {sorted(extra)}")

        def required(key: str, fallback: str) -> timedelta:
            value = parse_duration(lease.get(key, fallback), f"{source} [lease] {key}")
            if value is None:
                raise PolicyError(f"{source} [lease] {key} cannot be 'off'")
            return value

        return cls(
            default=default, platforms=platforms,
            lease_ttl=required("ttl", "30m"), transient_retry=required("transient_retry", "1h"),
            distributed_ttl=required("distributed_ttl", "1d"), source=source,
        )

    @staticmethod
    def _kinds(table: dict[str, Any], where: str) -> dict[str, timedelta | None]:
        unknown = set(table) - set(KINDS)
        if unknown:
            raise PolicyError(f"{where}: unknown kind(s) {sorted(unknown)}; kinds are {', '.join(KINDS)}")
        return {kind: parse_duration(value, f"{where} {kind}") for kind, value in table.items()}

    def interval(self, platform: str, kind: str) -> timedelta | None:
        specific = self.platforms.get(platform, {})
        return specific[kind] if kind in specific else self.default.get(kind)

    def due_kinds(self, platform: str, refreshed: dict[str, Any], now: datetime) -> list[str]:
        """The kinds of a subject that are due: never refreshed, or older than their interval."""
        kinds = PRESS_KINDS if platform == PRESS else ACCOUNT_KINDS
        due = []
        for kind in kinds:
            every = self.interval(platform, kind)
            if every is None:
                continue
            last = refreshed.get(kind)
            if last is None or datetime.fromisoformat(last) + every <= now:
                due.append(kind)
        return due


# --------------------------------------------------------------------------- claiming


@dataclass
class Claimed:
    """What one run holds: account refs per platform and candidate ids for press."""

    owner: str
    accounts: dict[str, list[AccountRef]] = field(default_factory=dict)
    press: list[int] = field(default_factory=list)
    settled_stale: dict[str, int] = field(default_factory=dict)
    #: platform -> account id -> the refresh kinds due (what the spider asks for)
    due: dict[str, dict[int, frozenset[str]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(len(v) for v in self.accounts.values()) + len(self.press)


def new_lease_owner(process: bool = True) -> str:
    return new_owner(uuid.uuid4().hex[:12], process=process)


def settle_stale(database_url: str | None, policy: RefreshPolicy, now: datetime | None = None) -> dict[str, int]:
    """Settle leases left by dead crawls from what they stored (see module docstring)."""
    def work() -> dict[str, int]:
        with session_scope(database_url) as session:
            stale = stale_leases(session, now or utcnow())
            if stale:
                logger.info("settling %d leases left by crawls that died", len(stale))
            return settle_accounts(session, stale, transient_retry=policy.transient_retry, now=now)

    return with_retries(work)


def claim_due(
    database_url: str | None,
    policy: RefreshPolicy,
    platforms: Iterable[str],
    *,
    owner: str,
    run_id: int | None = None,
    candidate_ids: list[int] | None = None,
    limit: int | None = None,
    ttl: timedelta | None = None,
    press: bool = False,
    now: datetime | None = None,
) -> Claimed:
    """Claim every due account of the active candidates (or of ``candidate_ids``) on the
    platforms, at most ``limit`` in all, and - with ``press`` - every candidate whose press
    search is due. Stale leases are settled first."""
    now = now or utcnow()
    ttl = ttl or policy.lease_ttl
    # Self-check probes (issue 16 item 6): a platform whose last `wangzi health --probe` said
    # drift is not claimed until a probe says otherwise (crawler/probes.py; `wangzi runs` names it).
    from storage.probe_results import drifted_platforms

    with session_scope(database_url) as session:
        drifted = drifted_platforms(session)
    platforms = [p for p in platforms if p not in drifted]
    claimed = Claimed(owner=owner, settled_stale=settle_stale(database_url, policy, now))
    budget = [limit if limit is not None else 10**12]

    def take(session: Any, platform: str, subjects: dict[int, Any]) -> list[Any]:
        ensure_leases(session, platform, subjects)
        got = []
        due = claimed.due.setdefault(platform, {})
        for lease in leases(session, platform, list(subjects)):
            if budget[0] <= 0:
                break
            if lease.owner is not None or (lease.not_before is not None and lease.not_before > now):
                continue
            kinds = policy.due_kinds(platform, lease.refreshed or {}, now)
            if kinds and claim(session, lease, owner=owner, kinds=kinds, run_id=run_id, ttl=ttl, now=now):
                got.append(subjects[lease.subject_id])
                due[lease.subject_id] = frozenset(kinds)
                budget[0] -= 1
        return got

    for platform in platforms:
        def work(platform: str = platform) -> list[AccountRef]:
            with session_scope(database_url) as session:
                refs = account_refs(session, platform, candidate_ids=candidate_ids or None)
                return take(session, platform, {r.account_id: r for r in refs if r.account_id is not None})

        claimed.accounts[platform] = with_retries(work)
    if press:
        def press_work() -> list[int]:
            with session_scope(database_url) as session:
                # The given candidates, active or not; else every active one.
                found = list_candidates(session, ids=candidate_ids, active=None if candidate_ids else True)
                ids = [c.id for c in found if c.id is not None]
                return take(session, PRESS, {i: i for i in ids})

        claimed.press = with_retries(press_work)
    return claimed


def settle_owner(database_url: str | None, owner: str, policy: RefreshPolicy, *, press_done: bool = False) -> dict[str, int]:
    """Release what a run holds: accounts with a stored snapshot or typed failure since they
    were claimed are refreshed, the rest stay due (transient failures after ``transient_retry``)."""
    def work() -> dict[str, int]:
        with session_scope(database_url) as session:
            held = held_by(session, owner)
            counts = settle_accounts(session, [x for x in held if x.platform != PRESS], transient_retry=policy.transient_retry)
            press = [x for x in held if x.platform == PRESS]
            if press:
                outcomes = {x.subject_id: "press" for x in press} if press_done else {}
                for key, value in settle(session, press, outcomes=outcomes, transient_retry=policy.transient_retry, now=utcnow()).items():
                    counts[key] = counts.get(key, 0) + value
            return counts

    return with_retries(work)


def due_overview(database_url: str | None, policy: RefreshPolicy, platforms: Iterable[str], now: datetime | None = None) -> dict[str, dict[str, int]]:
    """Per platform: accounts of active candidates, how many are due, how many are leased now."""
    now = now or utcnow()
    overview = {}
    with session_scope(database_url) as session:
        for platform in platforms:
            refs = account_refs(session, platform)
            rows = {x.subject_id: x for x in leases(session, platform, [r.account_id for r in refs if r.account_id])}
            due = held = 0
            for ref in refs:
                lease = rows.get(ref.account_id)  # type: ignore[arg-type]
                if lease is not None and lease.owner is not None:
                    held += 1
                elif lease is None or (
                    policy.due_kinds(platform, lease.refreshed or {}, now)
                    and (lease.not_before is None or lease.not_before <= now)
                ):
                    due += 1
            overview[platform] = {"accounts": len(refs), "due": due, "leased": held}
    return overview


# --------------------------------------------------------------------------- a due crawl


def press_spiders() -> list[str]:
    """Spiders that refresh a candidate's press coverage, when installed (``press``)."""
    try:
        names = SpiderLoader.from_settings(crawl_settings()).list()
    except Exception:  # noqa: BLE001 - a broken spider module must not stop account crawls
        logger.exception("could not list spiders")
        return []
    return [name for name in names if name == PRESS]


def run_due_crawl(
    database_url: str | None,
    platforms: list[str],
    *,
    policy: RefreshPolicy,
    candidate_ids: list[int] | None = None,
    limit: int | None = None,
    replay: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    press: bool = True,
) -> tuple[int | None, Claimed, dict[str, int]]:
    """Claim what is due, crawl it as one ``scheduled`` run and settle the leases. ``press``:
    also the candidates whose press search is due (when the press spider is installed).

    Returns (run id or None when nothing was due, what was claimed, settle counts)."""
    url = resolve_url(database_url)
    owner = new_lease_owner()
    with_press = press and bool(press_spiders())
    claimed = claim_due(url, policy, platforms, owner=owner, candidate_ids=candidate_ids, limit=limit, press=with_press)
    if not len(claimed):
        return None, claimed, {}
    with session_scope(url) as session:
        interrupt_dead_runs(session)
        run_id = start_run(session, "scheduled", owner=owner).id
        assign_run(session, owner, run_id)
    extra = [(PRESS, {"candidates": ",".join(map(str, claimed.press))})] if claimed.press else []
    values = {"WANGZI_LEASE_OWNER": owner, "WANGZI_LEASE_TTL": policy.lease_ttl.total_seconds(), **(overrides or {})}
    finished = False
    try:
        run_crawl(claimed.accounts, trigger="scheduled", database_url=url, replay=replay, overrides=values,
                  extra_spiders=extra, run_id=run_id, due=claimed.due)
        finished = True
    finally:
        counts = settle_owner(url, owner, policy, press_done=finished)
    return run_id, claimed, counts
