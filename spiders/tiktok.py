"""TikTok: profile numbers, bio link and region.

What is read, and from where:

* the profile page ``www.tiktok.com/@HANDLE``: the JSON in
  ``<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">`` at
  ``__DEFAULT_SCOPE__["webapp.user-detail"].userInfo`` (``statusCode`` beside it);
* the web API ``www.tiktok.com/api/user/detail/?uniqueId=HANDLE`` (``{"userInfo": ..., "statusCode"}``,
  also when relayed wrapped in ``{"data": ...}``), and a bare ``userInfo`` object or a list of them
  (scrapfly-scrapers' saved output).

``userInfo.stats`` holds **rounded** numbers (427700 for 427,682) while ``userInfo.statsV2`` holds
the **exact** ones as strings. Exact values win; a value taken from ``stats`` is marked
approximate when it is 1,000 or more (TikTok rounds what it shows as "427.7K"; smaller counts
are shown, and sent, exactly). ``user``: ``uniqueId``, ``nickname``, ``verified``, ``signature``,
``bioLink.link``, ``region`` (absent from newer pages), ``privateAccount``, ``id``.

Failures: ``statusCode`` 10221 (10223) -> not_found; 10222 without ``userInfo`` -> private; an
empty page, a page with no rehydration script or one with a captcha / ``SlardarWAF`` verify wall
-> blocked. A private account with ``userInfo`` (``privateAccount: true``) is still a profile:
TikTok shows its counts; only its videos are hidden.

Everything above :class:`TikTokSpider` is pure: bytes in, a record out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from crawler.items import AccountRef, Failure, FailureKind, ParseResult, Profile
from enrichment.numbers import parse_count
from enrichment.places import country_code
from spiders.base import AccountSpider, Source

PARSER_VERSION = "1"
PLATFORM = "tiktok"

PAGE_URL = "https://www.tiktok.com/@{handle}"
#: TikTok usernames: letters, digits, '_' and '.', at most 24 characters.
HANDLE = re.compile(r"^[A-Za-z0-9_.]{1,24}$")
_HOSTS = {"tiktok.com", "m.tiktok.com", "vm.tiktok.com"}
_REHYDRATION = re.compile(
    r"<script[^>]*\bid=[\"']__UNIVERSAL_DATA_FOR_REHYDRATION__[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)
_SIGI = re.compile(r"<script[^>]*\bid=[\"']SIGI_STATE[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
#: ``webapp.user-detail.statusCode`` for a missing or banned user (10221; 10223 seen by other
#: scrapers for removed accounts) and for a private profile shown without ``userInfo`` (10222).
NOT_FOUND_CODES = {10221, 10223}
PRIVATE_CODES = {10222}
#: Counts TikTok rounds for display start at 1,000 ("1.2K").
ROUNDING_FROM = 1000
_COUNT_KEYS = {"followers": "followerCount", "following": "followingCount", "likes": "heartCount", "posts": "videoCount"}


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """``@handle``, ``handle`` or ``https://www.tiktok.com/@handle`` -> account reference (lower case)."""
    value = text.strip()
    if "/" in value or "tiktok.com" in value.lower():
        url = value if "://" in value else f"https://{value}"
        parts = urlsplit(url)
        host = parts.netloc.lower().removeprefix("www.")
        segments = [s for s in parts.path.split("/") if s]
        if host in _HOSTS and segments and segments[0].startswith("@") and HANDLE.match(segments[0][1:]):
            return AccountRef(platform=PLATFORM, handle=segments[0][1:].lower())
        raise ValueError(f"{value!r} is not a TikTok profile URL; expected https://www.tiktok.com/@<username>")
    handle = value.removeprefix("@")
    if HANDLE.match(handle):
        return AccountRef(platform=PLATFORM, handle=handle.lower())
    raise ValueError(
        f"{value!r} is not a TikTok username (letters, digits, '_' and '.', at most 24) "
        "or profile URL (https://www.tiktok.com/@<username>)"
    )


# --------------------------------------------------------------------------- helpers


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    count = parse_count(value)
    return None if count is None or count.value < 0 else count.value


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any TikTok answer -> Profile or typed Failure. Never raises for bad input."""
    text = payload.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    if status == 429:
        return Failure(FailureKind.RATE_LIMITED, "HTTP 429 from TikTok", status)
    if status == 404:
        return Failure(FailureKind.NOT_FOUND, "HTTP 404: no such TikTok account", status)
    if status is not None and status >= 500:
        return Failure(FailureKind.HTTP_ERROR, f"HTTP {status} from TikTok", status)
    if url and "/login" in urlsplit(url).path:
        return Failure(FailureKind.LOGIN_REQUIRED, "redirected to TikTok's login page", status)
    if stripped[:1] in ("{", "["):
        return parse_api(payload, url, status)
    return parse_profile_page(payload, url, status)


def parse_api(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``api/user/detail`` JSON (bare or wrapped in ``data``), or a saved ``userInfo`` object/list."""
    document = _json(payload.decode("utf-8-sig", errors="replace"))
    if isinstance(document, list):
        document = document[0] if document and isinstance(document[0], dict) else None
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, "not JSON", status)
    if isinstance(document.get("data"), dict) and "user" not in document:
        document = document["data"]
    if "userInfo" in document or "statusCode" in document or "status_code" in document:
        return user_info_profile(document.get("userInfo"), document.get("statusCode", document.get("status_code")), url, status,
                                 document.get("statusMsg") or document.get("status_msg"))
    if "user" in document and "stats" in document:
        return user_info_profile(document, 0, url, status)
    return Failure(FailureKind.UNRECOGNIZED, "JSON without userInfo", status)


def rehydration_data(html: str) -> dict[str, Any] | None:
    match = _REHYDRATION.search(html)
    document = _json(match.group(1)) if match else None
    return document if isinstance(document, dict) else None


def parse_profile_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.tiktok.com/@HANDLE``: ``__DEFAULT_SCOPE__["webapp.user-detail"]``."""
    html = payload.decode("utf-8", errors="replace")
    if not html.strip():
        return Failure(FailureKind.BLOCKED, "empty page (TikTok's answer to a suspected bot)", status)
    data = rehydration_data(html)
    if data is None:
        lowered = html.lower()
        if any(mark in lowered for mark in ("_wafchallengeid", "slardarwaf")):
            return Failure(FailureKind.BLOCKED, "TikTok's WAF challenge page instead of the profile", status)
        if any(mark in lowered for mark in ("captcha", "verify to continue")):
            return Failure(FailureKind.CAPTCHA, "a captcha / verification page instead of the profile", status)
        if "<html" in lowered or "<!doctype" in lowered:
            return Failure(FailureKind.UNRECOGNIZED, "page without __UNIVERSAL_DATA_FOR_REHYDRATION__ (a bot wall or a changed page)", status)
        return Failure(FailureKind.UNRECOGNIZED, "neither a TikTok page nor TikTok JSON", status)
    scope = _dict(data.get("__DEFAULT_SCOPE__"))
    detail = scope.get("webapp.user-detail")
    if not isinstance(detail, dict):
        return Failure(FailureKind.BLOCKED, "rehydration data without webapp.user-detail (challenge or other page)", status)
    return user_info_profile(detail.get("userInfo"), detail.get("statusCode"), url, status, detail.get("statusMsg"))


def user_info_profile(
    info: Any, code: Any, url: str | None, status: int | None, message: Any = None
) -> ParseResult:
    """``userInfo`` -> Profile: exact ``statsV2`` over rounded ``stats``."""
    if isinstance(code, int) and code in NOT_FOUND_CODES:
        return Failure(FailureKind.NOT_FOUND, f"TikTok statusCode {code}: user not found {message or ''}".strip(), status)
    if isinstance(code, int) and code in PRIVATE_CODES and not _dict(info).get("user"):
        return Failure(FailureKind.PRIVATE, f"TikTok statusCode {code}: private account {message or ''}".strip(), status)
    info = _dict(info)
    user = _dict(info.get("user"))
    if isinstance(code, int) and code != 0 and not user:
        return Failure(FailureKind.UNRECOGNIZED, f"TikTok statusCode {code} {message or ''}".strip()[:300], status)
    if not user:
        return Failure(FailureKind.UNRECOGNIZED, "userInfo without user", status)
    exact = _dict(info.get("statsV2"))
    rounded = _dict(info.get("stats"))
    values: dict[str, int | None] = {}
    approximate: list[str] = []
    for field, key in _COUNT_KEYS.items():
        keys = [key, "heart"] if field == "likes" else [key]
        value = next((_int(exact[k]) for k in keys if _int(exact.get(k)) is not None), None)
        if value is None:
            value = next((_int(rounded[k]) for k in keys if _int(rounded.get(k)) is not None), None)
            if value is not None and value >= ROUNDING_FROM:
                approximate.append(field)
        values[field] = value
    bio_link = _text(_dict(user.get("bioLink")).get("link"))
    region = _text(user.get("region"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_text(user.get("id")),
        handle=(_text(user.get("uniqueId")) or "").lower() or None,
        display_name=_text(user.get("nickname")),
        followers=values["followers"],
        following=values["following"],
        posts=values["posts"],
        likes=values["likes"],
        verified=user.get("verified") if isinstance(user.get("verified"), bool) else None,
        bio=_text(user.get("signature")),
        country=country_code(region) if region else None,
        approximate=tuple(approximate),
        links=(bio_link,) if bio_link else (),
    )


# --------------------------------------------------------------------------- spider


class TikTokSpider(AccountSpider):
    """The profile page, plain first; through Playwright when the plain answer is a bot wall.

    The plain request is cheap and usually carries the rehydration JSON. When TikTok answers
    an empty page or a challenge instead (``blocked``), the chain's second source asks for the
    same page with ``meta={"playwright": True}`` so a real Chromium runs TikTok's scripts.
    """

    name = "tiktok"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["tiktok.com"]
    custom_settings = {
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 5.0,
        "AUTOTHROTTLE_START_DELAY": 5.0,
    }

    def sources(self, account: AccountRef) -> list[Source]:
        if not account.handle:
            self.logger.warning("tiktok account %r has no username; skipped", account.platform_user_id)
            return []
        url = PAGE_URL.format(handle=account.handle.lower())
        return [
            Source(url=url, parser=parse, name="tiktok.profile_page"),
            Source(
                url=url,
                parser=parse,
                name="tiktok.profile_page_browser",
                meta={"playwright": True, "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"}},
            ),
        ]

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """The browser is the fallback: only a bot wall (blocked, captcha or an unreadable page) sends the chain on to it."""
        blocked = isinstance(result, Failure) and result.kind in (FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.UNRECOGNIZED)
        if not blocked:
            return []
        return super().next_sources(account, source, result, payload, remaining)

    def finish_account(self, account: AccountRef, results: list[tuple[Any, ...]]) -> Iterator[Any]:
        """A bot wall the browser got past is not a failure of the account."""
        if any(isinstance(r[1], Profile) for r in results):
            results = [r for r in results if not isinstance(r[1], Failure)]
        yield from super().finish_account(account, results)
