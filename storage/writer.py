"""Turn crawled items into rows: append-only snapshots, posts with their counts, links, failures
(platform failures and press feed failures).

Kept in ``storage/`` (not in the pipeline) so that the pipeline, the dead-letter replayer
and tests share one way of writing. Every insert is idempotent: re-storing the same item
in the same run writes nothing new.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from records import FailureItem, FeedFailureItem, PostsItem, ProfileItem
from records.leads import SearchFailureItem
from storage.models import Account, AccountLink, FetchFailure, Post, PostSnapshot, ProfileSnapshot, utcnow
from storage.candidates import account_for_ref
from storage.db import insert_ignore


def write_items(session: Session, items: Iterable[Any], run_id: int | None) -> Counter[str]:
    """Store items in the session's transaction; returns counts of rows written by kind."""
    counts: Counter[str] = Counter()
    for item in items:
        if isinstance(item, ProfileItem):
            account = account_for_ref(session, item.account)
            _learn_identity(session, account, item)
            counts["snapshots"] += write_snapshot(session, account, item, run_id)
            counts["links"] += write_links(session, account, item.profile.links)
            if item.profile.recent_posts:
                counts["posts"] += write_posts(session, account, item.profile.recent_posts, run_id, item.provenance.captured_at)
        elif isinstance(item, PostsItem):
            account = account_for_ref(session, item.account)
            counts["posts"] += write_posts(session, account, item.posts, run_id, item.provenance.captured_at)
        elif isinstance(item, FailureItem):
            account = account_for_ref(session, item.account) if _identifies(item) else None
            counts[f"failure:{item.failure.kind.value}"] += write_failure(session, account, item, run_id)
        elif isinstance(item, FeedFailureItem):
            counts[f"failure:{item.failure.kind.value}"] += write_feed_failure(session, item, run_id)
        elif isinstance(item, SearchFailureItem):
            counts[f"failure:{item.failure.kind.value}"] += write_search_failure(session, item, run_id)
    return counts


def _identifies(item: FailureItem) -> bool:
    ref = item.account
    return ref.account_id is not None or bool(ref.handle or ref.platform_user_id)


def _learn_identity(session: Session, account: Account, item: ProfileItem) -> None:
    """Fill an account's missing id, handle and second id from what the platform said (never
    overwrite; a value another account of the platform already holds is not taken)."""
    profile = item.profile
    changed = False
    for field in ("platform_user_id", "handle", "other_user_id"):
        value = getattr(profile, field)
        if value and getattr(account, field) is None:
            clash = session.exec(
                select(Account).where(Account.platform == account.platform, getattr(Account, field) == value)
            ).first()
            if clash is None:
                setattr(account, field, value)
                changed = True
    if changed:
        session.add(account)
        session.flush()


def write_snapshot(session: Session, account: Account, item: ProfileItem, run_id: int | None) -> int:
    profile, provenance = item.profile, item.provenance
    row = {
        "account_id": account.id,
        "crawl_run_id": run_id,
        "captured_at": provenance.captured_at,
        "display_name": profile.display_name,
        "followers": profile.followers,
        "following": profile.following,
        "posts": profile.posts,
        "likes": profile.likes,
        "views": profile.views,
        "verified": profile.verified,
        "verified_reason": profile.verified_reason,
        "bio": profile.bio,
        "ip_location": profile.ip_location,
        "location": profile.location,
        "country": profile.country,
        "joined_at": profile.joined_at,
        "approximate": list(profile.approximate),
        "lower_bound": list(profile.lower_bound),
        "source_url": provenance.source_url,
        "parser": provenance.parser,
        "parser_version": provenance.parser_version,
        "payload_sha256": provenance.payload_sha256,
        "reparse_of": provenance.reparse_of,
    }
    return insert_ignore(session, ProfileSnapshot, [row])


def write_links(session: Session, account: Account, links: Iterable[str]) -> int:
    links = [link for link in dict.fromkeys(links) if link]
    if not links:
        return 0
    now = utcnow()
    written = insert_ignore(
        session, AccountLink, [{"account_id": account.id, "url": u, "first_seen_at": now, "last_seen_at": now} for u in links]
    )
    for link in session.exec(select(AccountLink).where(AccountLink.account_id == account.id, AccountLink.url.in_(links))):  # type: ignore[attr-defined]
        link.last_seen_at = now
        session.add(link)
    return written


def write_posts(session: Session, account: Account, posts: Iterable[Any], run_id: int | None, captured_at: Any) -> int:
    posts = list(posts)
    if not posts:
        return 0
    insert_ignore(
        session,
        Post,
        [
            {
                "account_id": account.id,
                "platform": p.platform,
                "post_id": p.post_id,
                "kind": p.kind,
                "url": p.url,
                "published_at": p.published_at,
                "title": p.title,
                "text": p.text,
                "first_seen_at": captured_at,
            }
            for p in posts
        ],
    )
    ids = {
        (row.platform, row.post_id): row.id
        for row in session.exec(
            select(Post).where(Post.platform == posts[0].platform, Post.post_id.in_([p.post_id for p in posts]))  # type: ignore[attr-defined]
        )
    }
    return insert_ignore(
        session,
        PostSnapshot,
        [
            {
                "post_id": ids[(p.platform, p.post_id)],
                "crawl_run_id": run_id,
                "captured_at": captured_at,
                "likes": p.likes,
                "comments": p.comments,
                "shares": p.shares,
                "views": p.views,
                "approximate": list(p.approximate),
            }
            for p in posts
            if (p.platform, p.post_id) in ids
        ],
    )


def write_failure(session: Session, account: Account | None, item: FailureItem, run_id: int | None) -> int:
    """A platform's typed failure for one account (see :func:`_add_failure_once`)."""
    return _add_failure_once(session, FetchFailure(
        crawl_run_id=run_id,
        account_id=account.id if account else None,
        platform=item.account.platform,
        kind=item.failure.kind.value,
        url=item.url,
        http_status=item.failure.status,
        detail=item.failure.detail[:500],
        occurred_at=item.occurred_at,
    ))


def write_feed_failure(session: Session, item: FeedFailureItem, run_id: int | None) -> int:
    """A press feed's typed failure: it names the candidate searched for, not an account."""
    return _add_failure_once(session, _source_failure(item, run_id, candidate_id=item.candidate_id))


def write_search_failure(session: Session, item: SearchFailureItem, run_id: int | None) -> int:
    """A discovery search's typed failure: stored under the search source's name
    (``bilibili_search``) with no account and no candidate, so the platform's own account
    outcomes (``wangzi health``) are not changed by what its search answered."""
    return _add_failure_once(session, _source_failure(item, run_id, candidate_id=None))


def _source_failure(item: FeedFailureItem | SearchFailureItem, run_id: int | None, *, candidate_id: int | None) -> FetchFailure:
    """The failure row of a source's answer that belongs to no account (a feed, a search)."""
    return FetchFailure(
        crawl_run_id=run_id,
        account_id=None,
        candidate_id=candidate_id,
        platform=item.source,
        kind=item.failure.kind.value,
        url=item.url,
        http_status=item.failure.status,
        detail=item.failure.detail[:500],
        occurred_at=item.occurred_at,
    )


def _add_failure_once(session: Session, row: FetchFailure) -> int:
    """One row per (run, account, candidate, URL, kind): a resumed run or a re-applied dead
    letter does not repeat a failure; a later run records it again (failures are events)."""
    existing = session.exec(
        select(FetchFailure.id).where(
            FetchFailure.crawl_run_id == row.crawl_run_id,
            FetchFailure.account_id == row.account_id,
            FetchFailure.candidate_id == row.candidate_id,
            FetchFailure.url == row.url,
            FetchFailure.kind == row.kind,
        )
    ).first()
    if existing is not None:
        return 0
    session.add(row)
    session.flush()
    return 1
