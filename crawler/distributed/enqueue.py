"""Queueing work for the workers: one job per account at the tail of its platform's queue,
and ``crawl --due --distributed``'s claim-then-queue of what is due."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.distributed.connection import redis_client
from crawler.distributed.job_queue import Job, jobs_key
from crawler.schedule import RefreshPolicy, claim_due, new_lease_owner
from records import AccountRef


def enqueue(client: Any, refs: Iterable[AccountRef], lease_owner: str | None = None,
            due: dict[str, dict[int, frozenset[str]]] | None = None) -> dict[str, int]:
    """Queue one job per account at the tail of its platform's queue (with the refresh kinds
    ``due`` names for it); counts per platform."""
    counts: dict[str, int] = {}
    with client.pipeline(transaction=False) as pipe:
        pending = 0
        for ref in refs:
            kinds = (due or {}).get(ref.platform, {}).get(ref.account_id) if ref.account_id is not None else None
            pipe.rpush(jobs_key(ref.platform), Job.for_account(ref, lease_owner, kinds).dumps())
            counts[ref.platform] = counts.get(ref.platform, 0) + 1
            pending += 1
            if pending >= 1000:
                pipe.execute()
                pending = 0
        pipe.execute()
    return counts


def enqueue_due(
    redis_url: str,
    database_url: str | None,
    platforms: list[str],
    *,
    policy: RefreshPolicy,
    candidate_ids: list[int] | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Claim the due accounts (leases held ``distributed_ttl``, settled by the workers as
    they finish) and queue one job per account; returns jobs queued per platform."""
    client = redis_client(redis_url)
    owner = new_lease_owner(process=False)
    claimed = claim_due(database_url, policy, platforms, owner=owner, candidate_ids=candidate_ids, limit=limit,
                        ttl=policy.distributed_ttl)
    counts = enqueue(client, [ref for refs in claimed.accounts.values() for ref in refs], lease_owner=owner,
                     due=claimed.due)
    return {p: counts.get(p, 0) for p in platforms}
