"""Cross-platform identity: which accounts does a profile link to?

Creators link their other accounts from their bios and link lists (Instagram ``external_url``
and ``bio_links``, X's website, TikTok's ``bioLink``, YouTube's about-panel links). A link
such as ``https://www.youtube.com/@miachentokyo`` or ``x.com/miachen_tokyo`` names an
account on another platform; :func:`recognize` turns it into ``(platform, AccountRef)``
with that platform's own ``normalize_account`` (so a link and a handle typed into
``candidates add`` end up as the same reference). Post, video and search links are not
accounts and are ignored.

Pure: strings in, references out; no network (short links such as ``t.co``, ``b23.tv`` or
``xhslink.com`` cannot be followed offline and are ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from records import AccountRef
from spiders.pages.registry import normalize_account

#: Platform -> the registrable domains of its profile pages.
PLATFORM_DOMAINS: dict[str, tuple[str, ...]] = {
    "youtube": ("youtube.com",),
    "instagram": ("instagram.com", "instagr.am"),
    "tiktok": ("tiktok.com",),
    "x": ("x.com", "twitter.com"),
    "weibo": ("weibo.com", "weibo.cn"),
    "bilibili": ("space.bilibili.com", "m.bilibili.com"),  # m.bilibili.com/space/MID
    "xiaohongshu": ("xiaohongshu.com",),
    "douyin": ("douyin.com",),
}

#: Path segments after the handle that make a link one post, not the account: the platforms'
#: ``normalize_account`` accept such links (a post URL names its author, which is handy for
#: ``candidates add``), but a bio linking one post claims nothing about whose account it is.
_POST_SEGMENTS: dict[str, frozenset[str]] = {
    "x": frozenset({"status", "statuses"}),
    "tiktok": frozenset({"video", "photo"}),
    "instagram": frozenset({"p", "reel", "tv"}),  # /NAME/reels/ is the account's tab
}

_HOSTS_PATTERN = "|".join(
    re.escape(domain) for domains in PLATFORM_DOMAINS.values() for domain in sorted(domains, key=len, reverse=True)
)
#: A link in free text: with a scheme, or a bare ``[sub.]domain/path`` of a known platform.
_LINK_IN_TEXT = re.compile(
    r"https?://[^\s<>\"'，。、；！？（）《》【】]+"
    rf"|(?<![\w.@/])(?:[\w-]+\.)*(?:{_HOSTS_PATTERN})/[^\s<>\"'，。、；！？（）《》【】]+",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?)]}'\"»…"


def platform_of(url: str) -> str | None:
    """The platform whose domain serves ``url`` (scheme optional), or None."""
    text = url.strip()
    host = urlsplit(text if "://" in text else f"https://{text}").netloc.lower().split(":")[0]
    for platform, domains in PLATFORM_DOMAINS.items():
        if any(host == domain or host.endswith("." + domain) for domain in domains):
            return platform
    return None


def recognize(url: str) -> tuple[str, AccountRef] | None:
    """A profile link -> ``(platform, AccountRef)``; None for anything that is not one."""
    platform = platform_of(url)
    if platform is None:
        return None
    link = url.strip().rstrip(_TRAILING)
    if "://" not in link:
        link = f"https://{link}"
    segments = [s.lower() for s in urlsplit(link).path.split("/") if s]
    if _POST_SEGMENTS.get(platform, frozenset()) & set(segments[1:]):
        return None
    try:
        ref = normalize_account(platform, link)
    except ValueError:
        return None
    if not (ref.handle or ref.platform_user_id):
        return None
    return platform, ref


def links_in_text(text: str | None) -> list[str]:
    """URLs (and bare ``instagram.com/name``-style links of known platforms) in a bio."""
    if not text:
        return []
    found: list[str] = []
    for match in _LINK_IN_TEXT.finditer(text):
        link = match.group(0).rstrip(_TRAILING)
        if link and link not in found:
            found.append(link)
    return found


def account_key(platform: str, ref: AccountRef) -> tuple[str, str, str]:
    """What two references to the same account share (handles compare case-insensitively)."""
    if ref.handle:
        return platform, "handle", ref.handle.lower()
    return platform, "id", str(ref.platform_user_id)


def linked_accounts(links: Iterable[str], text: str | None = None) -> list[tuple[str, AccountRef, str]]:
    """Every account named by ``links`` and by links in ``text``, once each, in order found:
    ``(platform, AccountRef, the link it came from)``."""
    seen: set[tuple[str, str, str]] = set()
    found: list[tuple[str, AccountRef, str]] = []
    for link in [*links, *links_in_text(text)]:
        recognized = recognize(link)
        if recognized is None:
            continue
        platform, ref = recognized
        key = account_key(platform, ref)
        if key in seen:
            continue
        seen.add(key)
        found.append((platform, ref, link))
    return found


def same_account(platform: str, ref: AccountRef, other_platform: str, other: AccountRef) -> bool:
    """True when both name one account: same platform and same handle (any case) or id."""
    if platform != other_platform:
        return False
    if ref.handle and other.handle and ref.handle.lower() == other.handle.lower():
        return True
    return bool(ref.platform_user_id and other.platform_user_id and str(ref.platform_user_id) == str(other.platform_user_id))
