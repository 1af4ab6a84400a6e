"""Living abroad: an IP location outside mainland China, and a self-declared place outside it.

"Outside mainland China" = ``country_code(...)`` is known and not ``CN`` (so HK, MO and TW
count as outside). Only each account's newest snapshot showing one within
PLACE_LOOKBACK_DAYS of ``as_of`` counts: an older place says nothing about where they live now.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from enrichment.features.rows import SnapshotRow, snapshots_by_account, utc
from enrichment.places import country_code, strip_ip_prefix

#: IP locations and declared places older than this are not evidence of living abroad now.
PLACE_LOOKBACK_DAYS = 30


def overseas_living_features(snapshots: Sequence[SnapshotRow], as_of: datetime) -> dict[str, Any]:
    """IP location outside mainland China (which platforms, which countries, when last seen)
    and a self-declared location outside it, from each account's newest snapshot showing one
    within PLACE_LOOKBACK_DAYS of ``as_of``.

    ``ip_abroad`` is None when no platform showed an IP location at all.
    """
    lookback = as_of - timedelta(days=PLACE_LOOKBACK_DAYS)
    by_account = snapshots_by_account((s for s in snapshots if utc(s.captured_at) > lookback), as_of)
    ip_countries: dict[str, str] = {}
    abroad_platforms: set[str] = set()
    abroad_seen: datetime | None = None
    declared: set[str] = set()
    any_declared = False
    for rows in by_account.values():
        with_ip = [r for r in rows if strip_ip_prefix(r.ip_location)]
        if with_ip:
            row = with_ip[-1]
            code = country_code(strip_ip_prefix(row.ip_location))
            if code is not None:
                ip_countries[row.platform] = code
                if code != "CN":
                    abroad_platforms.add(row.platform)
                    seen = utc(row.captured_at)
                    abroad_seen = seen if abroad_seen is None or seen > abroad_seen else abroad_seen
        with_place = [r for r in rows if (r.location and r.location.strip()) or r.country]
        if with_place:
            row = with_place[-1]
            code = country_code(row.location) if row.location and row.location.strip() else None
            code = code or (row.country.upper() if row.country else None)
            if code is not None:
                any_declared = True
                if code != "CN":
                    declared.add(code)
    return {
        "ip_abroad": bool(abroad_platforms) if ip_countries else None,
        "ip_abroad_platforms": sorted(abroad_platforms),
        "ip_countries": sorted(set(ip_countries.values())),
        "ip_abroad_seen_at": abroad_seen.isoformat() if abroad_seen else None,
        "declared_abroad": bool(declared) if any_declared else None,
        "declared_countries": sorted(declared),
    }
