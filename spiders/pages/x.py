"""X (Twitter): profile numbers, profile links and the "account based in" country.

What is read, and from where:

* GraphQL ``UserByScreenName`` (``x.com/i/api/graphql/<query id>/UserByScreenName``), the
  call the web app makes for a profile page. Its user object has changed shape three times;
  :func:`user_fields` reads all three generations:

  - **2025** ("legacy"): ``data.user.result.legacy.{followers_count, friends_count,
    statuses_count, description, location, screen_name, name, verified, entities.url.urls}``
    and ``is_blue_verified`` next to ``legacy``;
  - **2026-05** ("core + legacy"): ``core.{screen_name, name}``, ``location.location``,
    ``privacy.protected``, ``verification.verified``, ``profile_bio.description``, with
    the counts still in ``legacy``;
  - **current** (no ``legacy`` block): ``relationship_counts.{followers, following}``,
    ``tweet_counts.tweets``, ``profile_bio.{description, entities.description.urls}``, and
    the website: ``website.url`` is its t.co link, expanded in ``profile_bio.entities.url
    .urls[].expanded_url`` (as in twscrape's 2026-08 ``raw_user_by_login.json``).

  ``UserByRestId`` answers in the same shape (used when only the numeric id is known).
* GraphQL ``AboutAccountQuery``: ``data.user_result_by_screen_name.result.about_profile
  .account_based_in`` ("United States"), the country X itself attributes the account to,
  stored as ``ip_location`` with its ISO code in ``country``.
* API v2 ``GET /2/users/:id`` or ``/2/users/by/username/:name`` (``data.public_metrics``),
  for saved answers of the paid official API (``wangzi parse``); the spider does not call it.

The GraphQL API needs a logged-in session: the ``auth_token`` and ``ct0`` cookies (see
:func:`spiders.x.configured_cookies`). Without them the spider records ``login_required`` for
every account and sends nothing: X answers anonymous calls with errors or a login wall, and a
crawl that pretends otherwise would only fill the failure table with noise.

Failures: ``errors[].code`` (see ``_ERROR_CODES``) and ``UserUnavailable`` results before the
status; HTTP 401/403 -> login_required (the session cookies were refused), 429 ->
rate_limited, 404 -> not_found except from GraphQL, where it means a stale query id
(http_error); another error status -> http_error.

Everything here is pure: bytes in, a record out (and the GraphQL request it answers, built from
the query ids and feature switches below); :mod:`spiders.x` decides what to request.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast
from urllib.parse import parse_qs, quote, urlsplit

from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, PostPage, Profile
from enrichment.places import country_code
from spiders.pages.payload import (
    as_bool,
    as_dict,
    clean_text,
    count,
    first,
    link_parts,
    load_json,
    parse_created_at,
    parse_iso_time,
)
from spiders.pages.status import StatusTable, status_failure

PARSER_VERSION = "2"
PLATFORM = "x"

GRAPHQL_URL = "https://x.com/i/api/graphql/{query_id}/{operation}"

#: GraphQL query ids of the web app. X changes them when it redeploys; a stale id answers
#: HTTP 404 (or 400 "query not found"), which the parser reports as ``http_error`` naming
#: this constant. Take the current ids from the web app's ``main.<hash>.js``
#: (``queryId:"...",operationName:"UserByScreenName"``) or from twscrape's ``OP_*`` constants.
QUERY_IDS: dict[str, str] = {
    "UserByScreenName": "QGIw94L0abhuohrr76cSbw",  # twscrape twscrape/api.py OP_UserByScreenName
    "UserByRestId": "LWxkCeL8Hlx0-f24DmPAJw",  # twscrape twscrape/api.py OP_UserByRestId
    "AboutAccountQuery": "TzOG2twZEfhr9KmClvVVqA",  # twscrape tests/mocked-data/raw_user_about.json (2026-05)
    "UserTweets": "bDGQZ9i975PnuFhihvzGug",  # twscrape twscrape/api.py OP_UserTweets
}

#: Feature switches the web app sends with user queries (twscrape ``user_by_login_raw``).
#: X rejects a request that omits a switch it requires (HTTP 400 "features cannot be null");
#: update together with :data:`QUERY_IDS`.
USER_FEATURES: dict[str, bool] = {
    "hidden_profile_likes_enabled": True,
    "hidden_profile_subscriptions_enabled": True,
    "highlights_tweets_tab_ui_enabled": True,
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "subscriptions_verification_info_verified_since_enabled": True,
    "subscriptions_verification_info_is_identity_verified_enabled": False,
    "subscriptions_feature_can_gift_premium": False,
    "responsive_web_twitter_article_notes_tab_enabled": False,
    "profile_label_improvements_pcf_label_in_post_enabled": False,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "verified_phone_label_enabled": False,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
}

#: Feature switches of timeline queries (twscrape ``GQL_FEATURES``); same caveat as above.
TIMELINE_FEATURES: dict[str, bool] = {
    "articles_preview_enabled": False,
    "c9s_tweet_anatomy_moderator_badge_enabled": True,
    "communities_web_enable_tweet_community_results_fetch": True,
    "creator_subscriptions_quote_tweet_preview_enabled": False,
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "freedom_of_speech_not_reach_fetch_enabled": True,
    "graphql_is_translatable_rweb_tweet_is_translatable_enabled": True,
    "longform_notetweets_consumption_enabled": True,
    "longform_notetweets_inline_media_enabled": True,
    "longform_notetweets_rich_text_read_enabled": True,
    "responsive_web_edit_tweet_api_enabled": True,
    "responsive_web_enhance_cards_enabled": False,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
    "responsive_web_media_download_video_enabled": False,
    "responsive_web_twitter_article_tweet_consumption_enabled": True,
    "rweb_tipjar_consumption_enabled": True,
    "rweb_video_timestamps_enabled": True,
    "standardized_nudges_misinfo": True,
    "tweet_awards_web_tipping_enabled": False,
    "tweet_with_visibility_results_prefer_gql_limited_actions_policy_enabled": True,
    "tweet_with_visibility_results_prefer_gql_media_interstitial_enabled": False,
    "tweetypie_unmention_optimization_enabled": True,
    "verified_phone_label_enabled": False,
    "view_counts_everywhere_api_enabled": True,
    "premium_content_api_read_enabled": False,
    "profile_label_improvements_pcf_label_in_post_enabled": False,
    "responsive_web_grok_analyze_button_fetch_trends_enabled": False,
    "responsive_web_grok_share_attachment_enabled": False,
    "responsive_web_grok_analyze_post_followups_enabled": False,
}

#: The bearer token compiled into X's public web app (the same for every visitor; it is what
#: identifies "the web client", not a user). The user is identified by the cookies.
WEB_BEARER_TOKEN = (
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
)

#: X handles: 1-15 letters, digits or underscores (the platform table's pattern).
HANDLE = cast(re.Pattern[str], PLATFORM_TABLE[PLATFORM].handle)
_HOSTS = {"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com", "m.twitter.com"}
#: First path segments that are X pages, not accounts.
_RESERVED = {
    "home", "i", "intent", "search", "explore", "settings", "share", "hashtag", "messages",
    "notifications", "login", "logout", "signup", "tos", "privacy", "compose", "jobs", "about",
}

#: ``errors[].code`` -> kind. 88 "Rate limit exceeded"; 50 "User not found"; 63 "User has been
#: suspended"; 32 "Could not authenticate you", 89 "Invalid or expired token", 215 "Bad
#: authentication data", 353 "This request requires a matching csrf cookie and header";
#: 326 "To protect our users from spam ... this account is temporarily locked".
_ERROR_CODES: dict[int, FailureKind] = {
    88: FailureKind.RATE_LIMITED,
    50: FailureKind.NOT_FOUND,
    63: FailureKind.NOT_FOUND,
    32: FailureKind.LOGIN_REQUIRED,
    89: FailureKind.LOGIN_REQUIRED,
    215: FailureKind.LOGIN_REQUIRED,
    353: FailureKind.LOGIN_REQUIRED,
    326: FailureKind.BLOCKED,
}

#: HTTP status -> failure, once the body named no error of its own (a 404 from GraphQL is
#: checked before: it means a stale query id, not a missing account).
STATUSES: StatusTable = {
    401: (FailureKind.LOGIN_REQUIRED, "HTTP {status}: the session cookies were refused"),
    403: (FailureKind.LOGIN_REQUIRED, "HTTP {status}: the session cookies were refused"),
    404: (FailureKind.NOT_FOUND, "HTTP 404"),
    429: (FailureKind.RATE_LIMITED, "HTTP 429 Too Many Requests"),
}


# --------------------------------------------------------------------------- requests


def graphql_url(operation: str, variables: dict[str, Any], features: dict[str, bool] | None = None) -> str:
    """``x.com/i/api/graphql/<id>/<operation>?variables=...&features=...`` (compact JSON)."""
    query = "variables=" + quote(json.dumps(variables, separators=(",", ":")), safe="")
    if features:
        query += "&features=" + quote(json.dumps(features, separators=(",", ":")), safe="")
    return GRAPHQL_URL.format(query_id=QUERY_IDS[operation], operation=operation) + "?" + query


def user_tweets_url(user_id: str, count: int = 20) -> str:
    """The ``UserTweets`` request for an account's latest posts."""
    variables = {
        "userId": user_id,
        "count": count,
        "includePromotedContent": False,
        "withQuickPromoteEligibilityTweetFields": False,
        "withVoice": True,
        "withV2Timeline": True,
    }
    return graphql_url("UserTweets", variables, TIMELINE_FEATURES)


def graphql_headers(ct0: str) -> dict[str, str]:
    """What the web app sends with a GraphQL call: its bearer token and the session's CSRF token
    (``ct0``, also sent as a cookie; X refuses a call whose two copies differ, error 353)."""
    return {
        "Authorization": f"Bearer {WEB_BEARER_TOKEN}",
        "x-csrf-token": ct0,
        "x-twitter-auth-type": "OAuth2Session",
        "x-twitter-active-user": "yes",
        "x-twitter-client-language": "en",
        "Content-Type": "application/json",
    }


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """``@handle``, ``handle``, ``https://x.com/handle`` (or twitter.com), ``x.com/i/user/ID``
    or a numeric user id (16+ digits, longer than any handle) -> account reference."""
    value = text.strip()
    if "/" in value or value.lower().startswith(("x.com", "twitter.com", "www.", "mobile.")):
        host, segments = link_parts(value)
        if host not in _HOSTS:
            raise ValueError(f"{value!r} is not an X profile URL; expected https://x.com/<handle>")
        if len(segments) >= 3 and segments[0] == "i" and segments[1] == "user" and segments[2].isdigit():
            return AccountRef(platform=PLATFORM, platform_user_id=segments[2])
        if not segments or segments[0].lower() in _RESERVED or not HANDLE.match(segments[0]):
            raise ValueError(f"{value!r} is not an X profile URL; expected https://x.com/<handle>")
        return AccountRef(platform=PLATFORM, handle=segments[0])
    handle = value.removeprefix("@")
    if handle.isdigit() and len(handle) > 15:
        return AccountRef(platform=PLATFORM, platform_user_id=handle)
    if HANDLE.match(handle):
        return AccountRef(platform=PLATFORM, handle=handle)
    raise ValueError(
        f"{value!r} is not an X handle (1-15 letters, digits or _), profile URL (https://x.com/<handle>) or user id"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any X answer -> Profile or typed Failure. Never raises for bad input."""
    path = urlsplit(url).path if url else ""
    if path.rstrip("/") in {"/login", "/i/flow/login"} or path.startswith("/i/flow/login"):
        return Failure(FailureKind.LOGIN_REQUIRED, f"redirected to the login page ({path})", status)
    document = load_json(payload)
    if isinstance(document, dict):
        failure = _errors_failure(document, status)
        if failure is not None:
            return failure
    if status == 404 and "/graphql/" in path:
        return Failure(
            FailureKind.HTTP_ERROR,
            "HTTP 404 from GraphQL: the query id is probably outdated (update spiders.x.QUERY_IDS)",
            status,
        )
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if not isinstance(document, dict):
        if payload.lstrip()[:1] == b"<":
            return Failure(FailureKind.UNRECOGNIZED, "HTML instead of X API JSON", status)
        return Failure(FailureKind.UNRECOGNIZED, "not X API JSON", status)
    if path.endswith("/AboutAccountQuery"):
        return parse_about_account(document, status)
    if path.endswith(("/UserByScreenName", "/UserByRestId")):
        return parse_user_result(document, status)
    if path.endswith("/UserTweets"):
        return parse_user_tweets(document, url, status)
    if path.startswith("/2/users"):
        return parse_v2_user(document, status)
    data = document.get("data")
    if isinstance(data, dict):
        if "user_result_by_screen_name" in data:
            return parse_about_account(document, status)
        if _tweet_entries(as_dict(as_dict(data.get("user")).get("result"))):
            return parse_user_tweets(document, url, status)
        if "user" in data or not data:
            return parse_user_result(document, status)
        if "public_metrics" in data:
            return parse_v2_user(document, status)
    return Failure(FailureKind.UNRECOGNIZED, "JSON that is not an X user answer", status)


def _errors_failure(document: dict[str, Any], status: int | None) -> Failure | None:
    """``{"errors": [{"code": 88, "message": ...}]}`` (GraphQL / v1.1) or the v2 problem
    objects (``title``/``detail``/``type``) -> a typed failure, when no user came back."""
    errors = document.get("errors")
    if not isinstance(errors, list) or not errors:
        return None
    if _has_user(document):
        return None  # partial errors next to a user (e.g. a field X could not resolve)
    for error in errors:
        if not isinstance(error, dict):
            continue
        code = error.get("code")
        message = str(error.get("message") or error.get("detail") or error.get("title") or "")
        if isinstance(code, int) and code in _ERROR_CODES:
            kind = _ERROR_CODES[code]
            detail = f"error {code}: {message}"
            if code == 63 or "suspended" in message.lower():
                detail = f"the account is suspended (error {code}: {message})"
            return Failure(kind, detail[:300], status)
        problem = str(error.get("type") or "")
        lowered = message.lower()
        if error.get("kind") == "ServiceLevel" or error.get("source") == "Server":
            # e.g. {"data": {"user": {}}, "errors": [{"name": "DeadlineExceeded", "kind": "ServiceLevel"}]}:
            # X's own backend timed out; the empty user says nothing about the account.
            return Failure(FailureKind.HTTP_ERROR, f"X server error, try again later: {message}"[:300], status)
        if "suspended" in lowered:
            return Failure(FailureKind.NOT_FOUND, f"the account is suspended: {message}"[:300], status)
        if problem.endswith("resource-not-found") or error.get("title") == "Not Found Error":
            return Failure(FailureKind.NOT_FOUND, message[:300], status)
        if "rate limit" in lowered or status == 429:
            return Failure(FailureKind.RATE_LIMITED, message[:300], status)
        if "authenticat" in lowered or "csrf" in lowered:
            return Failure(FailureKind.LOGIN_REQUIRED, message[:300], status)
    first_error = as_dict(errors[0])
    detail = f"error {first_error.get('code')}: {first_error.get('message') or first_error.get('detail') or ''}"
    if "query" in detail.lower() and "not found" in detail.lower():
        detail += " (update spiders.x.QUERY_IDS)"
    return Failure(FailureKind.UNRECOGNIZED, detail[:300], status)


def _has_user(document: dict[str, Any]) -> bool:
    data = document.get("data")
    if not isinstance(data, dict):
        return False
    for key in ("user", "user_result_by_screen_name"):
        holder = data.get(key)
        if isinstance(holder, dict) and isinstance(holder.get("result"), dict):
            return True
    return "public_metrics" in data


# --------------------------------------------------------------------------- shared pieces


def _url_links(*entity_lists: Any) -> list[str]:
    """``entities.*.urls[]`` -> expanded URLs (never the t.co short links)."""
    links: list[str] = []
    for urls in entity_lists:
        if not isinstance(urls, list):
            continue
        for entry in urls:
            expanded = clean_text(as_dict(entry).get("expanded_url"))
            if expanded and expanded not in links:
                links.append(expanded)
    return links


def _verification(result: dict[str, Any], legacy: dict[str, Any]) -> tuple[bool | None, str | None]:
    """Any badge (legacy verified, Premium blue check, Business/Government type) counts."""
    verification = as_dict(result.get("verification"))
    verified = first(verification.get("verified"), legacy.get("verified"))
    blue = result.get("is_blue_verified")
    kind = clean_text(first(verification.get("verified_type"), legacy.get("verified_type")))
    reason = clean_text(as_dict(as_dict(as_dict(result.get("verification_info")).get("reason")).get("description")).get("text"))
    flags = [v for v in (verified, blue) if isinstance(v, bool)]
    if not flags and kind is None:
        return None, None
    badge = any(flags) or kind is not None
    if not badge:
        return False, None
    if reason is None:
        reason = f"{kind} account" if kind else ("X Premium (blue check)" if blue else "verified")
    return True, reason


def user_fields(result: dict[str, Any]) -> Profile:
    """One GraphQL user object, in any of the three schema generations, as a Profile."""
    legacy = as_dict(result.get("legacy"))
    core = as_dict(result.get("core"))
    counts = as_dict(result.get("relationship_counts"))
    tweets = as_dict(result.get("tweet_counts"))
    bio_block = as_dict(result.get("profile_bio"))
    location_block = result.get("location")
    location = clean_text(location_block.get("location")) if isinstance(location_block, dict) else clean_text(legacy.get("location"))
    verified, reason = _verification(result, legacy)
    legacy_entities = as_dict(legacy.get("entities"))
    bio_entities = as_dict(bio_block.get("entities"))
    links = _url_links(
        as_dict(legacy_entities.get("url")).get("urls"),
        as_dict(as_dict(result.get("website")).get("entities")).get("urls"),
        as_dict(bio_entities.get("url")).get("urls"),
        as_dict(legacy_entities.get("description")).get("urls"),
        as_dict(bio_entities.get("description")).get("urls"),
    )
    website = clean_text(as_dict(result.get("website")).get("url"))
    if website and not website.startswith("https://t.co/") and website not in links:
        links.insert(0, website)
    user_id = clean_text(result.get("rest_id")) or clean_text(legacy.get("id_str"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=user_id,
        handle=clean_text(first(core.get("screen_name"), legacy.get("screen_name"))),
        display_name=clean_text(first(core.get("name"), legacy.get("name"))),
        followers=count(first(counts.get("followers"), legacy.get("followers_count"))),
        following=count(first(counts.get("following"), legacy.get("friends_count"))),
        posts=count(first(tweets.get("tweets"), legacy.get("statuses_count"))),
        verified=verified,
        verified_reason=reason,
        bio=clean_text(first(bio_block.get("description"), legacy.get("description"))),
        location=location,
        joined_at=parse_created_at(first(core.get("created_at"), legacy.get("created_at"))),
        links=tuple(links),
    )


def _unavailable(result: dict[str, Any], status: int | None) -> Failure:
    """``{"__typename": "UserUnavailable", "reason": "Suspended", "message": ...}``."""
    reason = str(result.get("reason") or "")
    message = clean_text(result.get("message")) or clean_text(as_dict(result.get("unavailable_message")).get("text")) or ""
    lowered = f"{reason} {message}".lower()
    if "suspend" in lowered:
        return Failure(FailureKind.NOT_FOUND, f"the account is suspended ({reason or message})"[:300], status)
    if "protect" in lowered:
        return Failure(FailureKind.PRIVATE, f"the account is protected ({reason or message})"[:300], status)
    return Failure(FailureKind.NOT_FOUND, f"the account is unavailable ({reason or message or 'no reason given'})"[:300], status)


def _protected(result: dict[str, Any]) -> bool:
    return bool(as_dict(result.get("privacy")).get("protected") or as_dict(result.get("legacy")).get("protected"))


# --------------------------------------------------------------------------- UserByScreenName


def _user_result(document: dict[str, Any], key: str, label: str, empty: str, status: int | None) -> dict[str, Any] | Failure:
    """``data.<key>.result`` of a user query, or why there is none: no data -> unrecognized,
    an empty holder -> not_found, no result object -> unrecognized, ``UserUnavailable`` ->
    suspended/protected/... (see :func:`_unavailable`)."""
    data = document.get("data")
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "GraphQL answer without data", status)
    holder = data.get(key)
    if not data or holder is None or holder == {}:
        return Failure(FailureKind.NOT_FOUND, f"X has no user with this name ({empty})", status)
    result = as_dict(holder).get("result")
    if not isinstance(result, dict):
        return Failure(FailureKind.UNRECOGNIZED, f"{label} without a result object", status)
    if result.get("__typename") == "UserUnavailable":
        return _unavailable(result, status)
    return result


def parse_user_result(document: dict[str, Any], status: int | None = 200) -> ParseResult:
    """``UserByScreenName`` / ``UserByRestId``: ``data.user.result``."""
    result = _user_result(document, "user", "data.user", "empty data.user", status)
    if isinstance(result, Failure):
        return result
    if result.get("__typename") not in (None, "User"):
        return Failure(FailureKind.UNRECOGNIZED, f"unexpected result type {result.get('__typename')!r}", status)
    if "timeline" in result and not ({"legacy", "core", "relationship_counts"} & result.keys()):
        return Failure(
            FailureKind.UNRECOGNIZED, "a timeline of users or posts (e.g. BlueVerifiedFollowers), not a profile", status
        )
    profile = user_fields(result)
    if profile.followers is None and profile.following is None and profile.posts is None:
        if _protected(result):
            return Failure(FailureKind.PRIVATE, "the account is protected and its counts are not shown", status)
        if profile.handle is None and profile.platform_user_id is None:
            return Failure(FailureKind.UNRECOGNIZED, "user object without counts, name or id", status)
    return profile


# --------------------------------------------------------------------------- AboutAccountQuery


def parse_about_account(document: dict[str, Any], status: int | None = 200) -> ParseResult:
    """``AboutAccountQuery``: where X says the account is based (``account_based_in``)."""
    result = _user_result(document, "user_result_by_screen_name", "user_result_by_screen_name",
                          "empty about answer", status)
    if isinstance(result, Failure):
        return result
    about = as_dict(result.get("about_profile"))
    based_in = clean_text(about.get("account_based_in"))
    core = as_dict(result.get("core"))
    verified, reason = _verification(result, {})
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(result.get("rest_id")),
        handle=clean_text(core.get("screen_name")),
        display_name=clean_text(core.get("name")),
        verified=verified,
        verified_reason=reason,
        ip_location=based_in,
        country=country_code(based_in),
        joined_at=parse_created_at(core.get("created_at")),
    )


# --------------------------------------------------------------------------- UserTweets


def _tweet_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Tweet results of a user timeline (``timeline_v2`` until 2025, ``timeline`` after):
    the pinned entry, plain entries and conversation modules (``content.items[]``)."""
    holder = as_dict(result.get("timeline_v2")) or as_dict(result.get("timeline"))
    instructions = as_dict(holder.get("timeline")).get("instructions")
    entries: list[Any] = []
    for instruction in instructions if isinstance(instructions, list) else []:
        instruction = as_dict(instruction)
        if isinstance(instruction.get("entry"), dict):
            entries.append(instruction["entry"])
        if isinstance(instruction.get("entries"), list):
            entries.extend(instruction["entries"])
    contents: list[dict[str, Any]] = []
    for entry in entries:
        content = as_dict(as_dict(entry).get("content"))
        items = content.get("items")
        if isinstance(items, list):
            contents.extend(as_dict(as_dict(item).get("item")) for item in items)
        contents.append(content)
    tweets = []
    for content in contents:
        tweet = as_dict(as_dict(as_dict(as_dict(content).get("itemContent")).get("tweet_results")).get("result"))
        if tweet.get("__typename") == "TweetWithVisibilityResults":
            tweet = as_dict(tweet.get("tweet"))
        if tweet.get("rest_id") and isinstance(tweet.get("legacy"), dict):
            tweets.append(tweet)
    return tweets


def parse_user_tweets(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``UserTweets``: the account's own recent posts (retweets of others are left out)."""
    data = document.get("data")
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "GraphQL answer without data", status)
    holder = data.get("user")
    if not data or holder is None or holder == {}:
        return Failure(FailureKind.NOT_FOUND, "X has no user with this id (empty data.user)", status)
    result = as_dict(as_dict(holder).get("result"))
    if result.get("__typename") == "UserUnavailable":
        return _unavailable(result, status)
    if not ({"timeline", "timeline_v2"} & result.keys()):
        return Failure(FailureKind.UNRECOGNIZED, "UserTweets answer without a timeline", status)
    owner = _variables(url).get("userId")
    posts: dict[str, Post] = {}
    for tweet in _tweet_entries(result):
        legacy = tweet["legacy"]
        author = as_dict(as_dict(as_dict(tweet.get("core")).get("user_results")).get("result"))
        author_id = clean_text(legacy.get("user_id_str")) or clean_text(author.get("rest_id"))
        if owner and author_id and author_id != str(owner):
            continue  # someone else's tweet shown in a conversation module
        if isinstance(legacy.get("retweeted_status_result"), dict):
            continue  # a retweet: someone else's content
        post_id = str(tweet["rest_id"])
        handle = clean_text(first(as_dict(author.get("core")).get("screen_name"), as_dict(author.get("legacy")).get("screen_name")))
        note = as_dict(as_dict(as_dict(tweet.get("note_tweet")).get("note_tweet_results")).get("result"))
        posts.setdefault(
            post_id,
            Post(
                platform=PLATFORM,
                post_id=post_id,
                url=f"https://x.com/{handle or 'i/web'}/status/{post_id}",
                published_at=parse_created_at(legacy.get("created_at")),
                text=clean_text(note.get("text")) or clean_text(legacy.get("full_text")),
                likes=count(legacy.get("favorite_count")),
                comments=count(legacy.get("reply_count")),
                shares=count(legacy.get("retweet_count")),
                views=count(as_dict(tweet.get("views")).get("count")),
            ),
        )
    return PostPage(platform=PLATFORM, platform_user_id=str(owner) if owner else None, posts=tuple(posts.values()))


def _variables(url: str | None) -> dict[str, Any]:
    """The ``variables`` JSON of a GraphQL URL ({} when absent or unreadable)."""
    if not url:
        return {}
    values = parse_qs(urlsplit(url).query).get("variables")
    return as_dict(load_json(values[0])) if values else {}


# --------------------------------------------------------------------------- API v2


def parse_v2_user(document: dict[str, Any], status: int | None = 200) -> ParseResult:
    """API v2 user lookup: ``data.public_metrics.{followers_count, following_count, tweet_count}``."""
    data = document.get("data")
    if isinstance(data, list):
        data = data[0] if len(data) == 1 else None
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "v2 answer without one data object", status)
    metrics = as_dict(data.get("public_metrics"))
    entities = as_dict(data.get("entities"))
    kind = clean_text(data.get("verified_type"))
    if kind == "none":
        kind = None
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(data.get("id")),
        handle=clean_text(data.get("username")),
        display_name=clean_text(data.get("name")),
        followers=count(metrics.get("followers_count")),
        following=count(metrics.get("following_count")),
        posts=count(metrics.get("tweet_count")),
        likes=None,  # like_count is likes *given*, not received
        verified=as_bool(data.get("verified")),
        verified_reason=f"{kind} account" if kind else None,
        bio=clean_text(data.get("description")),
        location=clean_text(data.get("location")),
        joined_at=parse_iso_time(data.get("created_at")),
        links=tuple(_url_links(as_dict(entities.get("url")).get("urls"), as_dict(entities.get("description")).get("urls"))),
    )
