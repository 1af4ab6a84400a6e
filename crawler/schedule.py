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
import os
import re
import time
import tomllib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from sqlalchemy.exc import OperationalError

from records import AccountRef

logger = logging.getLogger(__name__)

DEFAULT_POLICY_FILE = Path(__file__).parent / "data" / "refresh.toml"
#: What a platform account's crawl refreshes, and what a candidate's press search refreshes.
ACCOUNT_KINDS: tuple[str, ...] = ("profiles", "posts")
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
    def load(cls, path: str | Path | None = None) -> "RefreshPolicy":
        """The policy from ``path``, else ``WANGZI_REFRESH_POLICY``, else the bundled default."""
        chosen = Path(path or os.environ.get("WANGZI_REFRESH_POLICY") or DEFAULT_POLICY_FILE)
        try:
            document = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PolicyError(f"refresh policy {chosen} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise PolicyError(f"refresh policy {chosen} is not valid TOML: {exc}") from None
        return cls.from_dict(document, source=str(chosen))

    @classmethod
    def from_dict(cls, document: dict[str, Any], source: str = "dict") -> "RefreshPolicy":
        from records import PLATFORMS

        unknown = set(document) - {"default", "platforms", "lease"}
        if unknown:
            raise PolicyError(f"{source}: unknown section(s) {sorted(unknown)}; use [default], [platforms.NAME], [lease]")
        defaults = {"profiles": "1d", "posts": "1d", "press": "7d", **document.get("default", {})}
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

    def __len__(self) -> int:
        return sum(len(v) for v in self.accounts.values()) + len(self.press)


T = TypeVar("T")


def with_retries(work: Callable[[], T], attempts: int = 5) -> T:
    """Retry a unit of work that lost a write race on SQLite ("database is locked")."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def new_lease_owner(process: bool = True) -> str:
    from storage.leases import new_owner

    return new_owner(uuid.uuid4().hex[:12], process=process)


def settle_stale(database_url: str | None, policy: RefreshPolicy, now: datetime | None = None) -> dict[str, int]:
    """Settle leases left by dead crawls from what they stored (see module docstring)."""
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.leases import settle_accounts, stale_leases

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
    from storage.db import session_scope
    from storage.models import Candidate, utcnow
    from storage.leases import claim, ensure_leases, leases
    from storage.candidates import account_refs
    from sqlmodel import select

    now = now or utcnow()
    ttl = ttl or policy.lease_ttl
    claimed = Claimed(owner=owner, settled_stale=settle_stale(database_url, policy, now))
    budget = [limit if limit is not None else 10**12]

    def take(session: Any, platform: str, subjects: dict[int, Any]) -> list[Any]:
        ensure_leases(session, platform, subjects)
        got = []
        for lease in leases(session, platform, list(subjects)):
            if budget[0] <= 0:
                break
            if lease.owner is not None or (lease.not_before is not None and lease.not_before > now):
                continue
            kinds = policy.due_kinds(platform, lease.refreshed or {}, now)
            if kinds and claim(session, lease, owner=owner, kinds=kinds, run_id=run_id, ttl=ttl, now=now):
                got.append(subjects[lease.subject_id])
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
                statement = select(Candidate.id)
                if candidate_ids:
                    statement = statement.where(Candidate.id.in_(candidate_ids))  # type: ignore[union-attr]
                else:
                    statement = statement.where(Candidate.active == True)  # noqa: E712
                ids = list(session.exec(statement.order_by(Candidate.id)).all())
                return take(session, PRESS, {i: i for i in ids})

        claimed.press = with_retries(press_work)
    return claimed


def settle_owner(database_url: str | None, owner: str, policy: RefreshPolicy, *, press_done: bool = False) -> dict[str, int]:
    """Release what a run holds: accounts with a stored snapshot or typed failure since they
    were claimed are refreshed, the rest stay due (transient failures after ``transient_retry``)."""
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.leases import held_by, settle, settle_accounts

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
    from storage.db import session_scope
    from storage.models import utcnow
    from storage.leases import leases
    from storage.candidates import account_refs

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


# --------------------------------------------------------------------------- keeping leases alive


class LeaseHeartbeat:
    """Scrapy extension: while a ``crawl --due`` runs, renew its leases every ttl/3, so only a
    crawl that died loses them. Enabled by ``WANGZI_LEASE_OWNER`` (set by the CLI)."""

    def __init__(self, crawler: Crawler, owner: str, ttl: float) -> None:
        self.crawler = crawler
        self.owner = owner
        self.ttl = timedelta(seconds=ttl)
        self.database_url = crawler.settings.get("WANGZI_DATABASE_URL") or None
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "LeaseHeartbeat":
        owner = crawler.settings.get("WANGZI_LEASE_OWNER")
        if not owner:
            raise NotConfigured  # WANGZI_LEASE_OWNER not set (no message: Scrapy would log a warning)
        extension = cls(crawler, owner, crawler.settings.getfloat("WANGZI_LEASE_TTL", 1800.0))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.task = task.LoopingCall(self.beat)
        self.task.start(max(self.ttl.total_seconds() / 3, 0.5), now=False)

    def beat(self) -> None:
        from storage.db import session_scope
        from storage.leases import renew

        try:
            with session_scope(self.database_url) as session:
                renewed = renew(session, self.owner, self.ttl)
            logger.debug("renewed %d leases of %s", renewed, self.owner)
        except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
            logger.exception("could not renew leases of %s", self.owner)

    def spider_closed(self, spider: Any) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()


# --------------------------------------------------------------------------- a due crawl


def press_spiders() -> list[str]:
    """Spiders that refresh a candidate's press coverage, when installed (``press``)."""
    from scrapy.spiderloader import SpiderLoader

    from crawler.runner import crawl_settings

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
    from crawler.runner import run_crawl
    from storage.db import database_url as resolve_url
    from storage.db import session_scope
    from storage.leases import assign_run
    from storage.runs import start_run

    url = resolve_url(database_url)
    owner = new_lease_owner()
    with_press = press and bool(press_spiders())
    claimed = claim_due(url, policy, platforms, owner=owner, candidate_ids=candidate_ids, limit=limit, press=with_press)
    if not len(claimed):
        return None, claimed, {}
    with session_scope(url) as session:
        run_id = start_run(session, "scheduled").id
        assign_run(session, owner, run_id)
    extra = [(PRESS, {"candidates": ",".join(map(str, claimed.press))})] if claimed.press else []
    values = {"WANGZI_LEASE_OWNER": owner, "WANGZI_LEASE_TTL": policy.lease_ttl.total_seconds(), **(overrides or {})}
    finished = False
    try:
        run_crawl(claimed.accounts, trigger="scheduled", database_url=url, replay=replay, overrides=values,
                  extra_spiders=extra, run_id=run_id)
        finished = True
    finally:
        counts = settle_owner(url, owner, policy, press_done=finished)
    return run_id, claimed, counts


# --------------------------------------------------------------------------- JOBDIR (pause and resume)


class ResumeFinishedAccounts:
    """Spider middleware that makes Scrapy's ``JOBDIR`` pause/resume work for account spiders.

    With ``-s JOBDIR=DIR`` Scrapy keeps pending requests on disk and ``spider.state`` across a
    graceful stop (SIGINT/SIGTERM), but ``start()`` yields every account again on resume.
    This remembers in ``spider.state`` the accounts whose items were yielded and drops their
    start requests on resume, so a finished account is not crawled twice. An account that was
    half-way is started again: its own pending request may also come back from the disk queue,
    and the second answer is absorbed by the per-run unique keys of snapshots. (SIGKILL loses
    Scrapy's state; ``crawl --due`` leases cover that case.)"""

    STATE_KEY = "wangzi_finished_accounts"

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.skipped = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "ResumeFinishedAccounts":
        if not crawler.settings.get("JOBDIR"):
            raise NotConfigured  # JOBDIR not set (no message: Scrapy would log a warning)
        return cls(crawler)

    def _finished(self) -> set[tuple[Any, ...]]:
        state = getattr(self.crawler.spider, "state", None)
        return state.setdefault(self.STATE_KEY, set()) if state is not None else set()

    @staticmethod
    def _key(account: Any) -> tuple[Any, ...]:
        # The database id when there is one: a crawl may learn the account's platform id,
        # so the ref of the next run differs in everything else.
        if account.account_id is not None:
            return (account.platform, account.account_id)
        return (account.platform, None, account.handle, account.platform_user_id)

    def _note(self, output: Any) -> None:
        from records import FailureItem, PostsItem, ProfileItem

        if isinstance(output, (ProfileItem, PostsItem, FailureItem)):
            self._finished().add(self._key(output.account))

    def _keep(self, output: Any) -> bool:
        """Note finished accounts; False for the first request of a finished account's chain."""
        self._note(output)
        meta = getattr(output, "meta", None)
        if not meta or meta.get("wangzi_index") != 0 or meta.get("wangzi_account") is None:
            return True
        if self._key(meta["wangzi_account"]) not in self._finished():
            return True
        self.skipped += 1
        if self.skipped == 1 or self.skipped % 100 == 0:
            logger.info("JOBDIR resume: %d accounts finished before the pause were not crawled again", self.skipped)
        return False

    # Account chains start from start() or, after a prelude (Bilibili's nav), from a callback.

    async def process_start(self, start: Any) -> Any:
        async for output in start:
            if self._keep(output):
                yield output

    def process_spider_output(self, response: Any, result: Any, spider: Any = None) -> Any:
        for output in result:
            if self._keep(output):
                yield output

    async def process_spider_output_async(self, response: Any, result: Any, spider: Any = None) -> Any:
        async for output in result:
            if self._keep(output):
                yield output
