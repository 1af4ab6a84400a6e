"""The platform table: every social platform Wangzi tracks and what identifies an account on it.

One row per platform, in display order. Storage builds profile links from it, enrichment
splits reach into domestic and overseas audiences with it, the page modules validate ids and
handles against its patterns, and the CLI makes one ``--PLATFORM`` option per row. A new
platform starts here (see CONTRIBUTING.md, "Adding a platform").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from records.items import AccountRef


@dataclass(frozen=True)
class Platform:
    """What the rest of the project needs to know about one platform."""

    name: str
    #: True for platforms whose audience is mainland China.
    domestic: bool
    #: A valid platform user id (Bilibili's mid, Douyin's sec_uid, YouTube's channel id ...); None
    #: where accounts are known by handle only.
    user_id: re.Pattern[str] | None = None
    #: A valid handle (without "@"); None where the platform has no handles.
    handle: re.Pattern[str] | None = None
    #: The public profile page by user id / by handle; None where no stable link exists.
    profile_url_by_id: str | None = None
    profile_url_by_handle: str | None = None

    def profile_url(self, ref: AccountRef) -> str | None:
        """The public profile page of ``ref`` (the handle's page first), or None."""
        if ref.handle and self.profile_url_by_handle:
            return self.profile_url_by_handle.format(handle=ref.handle)
        if ref.platform_user_id and self.profile_url_by_id:
            return self.profile_url_by_id.format(id=ref.platform_user_id)
        return None


_TABLE: tuple[Platform, ...] = (
    Platform(
        "bilibili", True, user_id=re.compile(r"^\d{1,20}$"), profile_url_by_id="https://space.bilibili.com/{id}"
    ),
    Platform("weibo", True, user_id=re.compile(r"^\d{5,12}$")),
    Platform("xiaohongshu", True, user_id=re.compile(r"^[0-9a-f]{24}$")),
    Platform("douyin", True, user_id=re.compile(r"^MS4wLjABAAAA[A-Za-z0-9_-]{20,}$")),  # sec_uid
    Platform("taobao_live", True, user_id=re.compile(r"^\d{5,15}$")),  # anchor (account) id
    Platform("youku", True, user_id=re.compile(r"^(?:UM[A-Za-z0-9=]{6,40}|\d{4,15})$")),
    Platform("youtube", False, user_id=re.compile(r"^UC[A-Za-z0-9_-]{22}$"), handle=re.compile(r"^[A-Za-z0-9._-]{1,100}$")),
    Platform(
        "instagram", False, handle=re.compile(r"^[A-Za-z0-9._]{1,30}$"),
        profile_url_by_handle="https://www.instagram.com/{handle}/",
    ),
    Platform("tiktok", False, handle=re.compile(r"^[A-Za-z0-9_.]{1,24}$")),
    Platform(
        "x", False, user_id=re.compile(r"^\d+$"), handle=re.compile(r"^[A-Za-z0-9_]{1,15}$"),
        profile_url_by_id="https://x.com/i/user/{id}", profile_url_by_handle="https://x.com/{handle}",
    ),
)

#: Platform name -> its row, in display order.
PLATFORM_TABLE: dict[str, Platform] = {platform.name: platform for platform in _TABLE}

#: Platform name -> domestic (True for platforms whose audience is mainland China), in display order.
PLATFORMS: dict[str, bool] = {platform.name: platform.domestic for platform in _TABLE}
DOMESTIC_PLATFORMS = frozenset(name for name, domestic in PLATFORMS.items() if domestic)
OVERSEAS_PLATFORMS = frozenset(name for name, domestic in PLATFORMS.items() if not domestic)

def profile_url(ref: AccountRef) -> str | None:
    """The public profile page of an account, or None for an unknown platform or no template."""
    platform = PLATFORM_TABLE.get(ref.platform)
    return platform.profile_url(ref) if platform else None
