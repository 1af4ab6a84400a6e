"""GDELT DOC 2.0 API article lists: parse a saved answer into news items (pure, offline).

``api.gdeltproject.org/api/v2/doc/doc?query="NAME"&mode=artlist&format=json&maxrecords=250
&timespan=..`` answers ``{"articles": [{"url", "url_mobile", "title", "seendate"
("20191106T120000Z"), "socialimage", "domain", "language" ("English"), "sourcecountry"
("United States")}]}``. Quirks handled here:

* no result may be ``{}`` (or ``{"articles": []}``) -> an empty item list, not a failure;
* a bad query is answered with HTTP 200 and an HTML or plain-text message -> ``unrecognized``
  with that text as the detail;
* HTTP 429 (it asks for one request every 5 seconds) -> ``rate_limited``;
* a title's raw backslash or tab copied into the JSON unescaped is repaired, so one title
  does not lose the whole answer;
* ``sourcecountry`` is a country NAME -> ISO code via ``enrichment.places.country_code``
  (the query filter ``sourcecountry:`` takes FIPS codes instead: Japan = JA, China = CH);
* ``language`` is an English language name -> ISO 639-1 via pycountry.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import quote

from records import Failure, FailureKind
from spiders.pages.news import NEWS_STATUSES, NewsFeed, NewsItem
from spiders.pages.status import status_failure

PARSER_VERSION = "1"

API_URL = "https://api.gdeltproject.org/api/v2/doc/doc"


@lru_cache(maxsize=1)
def _babel_language_names() -> dict[str, str]:
    """English language name -> ISO 639-1 code, from CLDR (Babel): "Punjabi" -> "pa"."""
    from babel import Locale

    return {name.casefold(): code for code, name in Locale("en").languages.items() if len(code) == 2}


@lru_cache(maxsize=256)
def language_code(name: str | None) -> str | None:
    """"English" -> "en", "Chinese" -> "zh", "Punjabi" -> "pa"; None when unknown.

    GDELT writes English language names. CLDR's names (Babel) are tried first because
    ISO 639's own names differ for some of them ("Panjabi", "Modern Greek"); pycountry
    then catches ISO names and three-letter codes.
    """
    if not name:
        return None
    import pycountry

    name = name.strip()
    if len(name) == 2 and name.isalpha():
        return name.lower()
    code = _babel_language_names().get(name.casefold())
    if code:
        return code
    try:
        language = pycountry.languages.lookup(name)
    except LookupError:
        return None
    return getattr(language, "alpha_2", None)


def _seendate(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y%m%dT%H%M%SZ", "%Y%m%d%H%M%S"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _load_json(text: str) -> object:
    """GDELT's JSON, also when a title carries a raw backslash or control character.

    GDELT copies titles into its JSON unescaped now and then ("Invalid \\escape: line 1
    column 99103", gdelt-doc-api issues #26/#28): one such title must not lose the other
    articles of the answer. Only text that looks like a JSON object is repaired.
    """
    try:
        return json.loads(text)
    except ValueError:
        if not text.startswith("{"):
            raise
    repaired = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) in '"\\/bfnrtu' else "\\\\" + m.group(1), text)
    return json.loads(repaired, strict=False)  # strict=False: raw tabs/newlines inside strings


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> NewsFeed | Failure:
    """A GDELT DOC ``artlist`` JSON answer -> :class:`NewsFeed`; anything else -> typed failure."""
    from enrichment.outlets import clean_url, outlet_for

    failure = status_failure(status, NEWS_STATUSES, "GDELT")
    if failure:
        return failure
    text = payload.decode("utf-8", "replace").strip() if payload else ""
    if not text:
        return Failure(FailureKind.UNRECOGNIZED, "empty answer, not GDELT JSON", status)
    try:
        data = _load_json(text)
    except ValueError:
        # GDELT reports bad queries as text/HTML with status 200: keep its words. Its
        # rate-limit words are a rate limit whatever the status they came with.
        words = " ".join(text.split())[:300]
        if "limit requests to one every" in words.lower():
            return Failure(FailureKind.RATE_LIMITED, words, status)
        return Failure(FailureKind.UNRECOGNIZED, words, status)
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, f"GDELT answer is a JSON {type(data).__name__}", status)
    articles = data.get("articles", [])
    if not isinstance(articles, list) or (not articles and data and "articles" not in data):
        return Failure(FailureKind.UNRECOGNIZED, f"no articles list (keys: {sorted(data)[:5]})", status)
    items = []
    for article in articles:
        if not isinstance(article, dict) or not isinstance(article.get("url"), str):
            continue
        article_url = clean_url(article["url"])
        domain = article.get("domain") if isinstance(article.get("domain"), str) else None
        source_country = article.get("sourcecountry") if isinstance(article.get("sourcecountry"), str) else None
        outlet = outlet_for(article_url, source_country=source_country or None)
        title = article.get("title")
        items.append(NewsItem(
            title=" ".join(title.split()) if isinstance(title, str) else None,
            url=article_url,
            outlet=outlet.name or domain or outlet.domain,
            outlet_url=None,  # GDELT gives the domain only; no homepage URL is invented
            published_at=_seendate(article.get("seendate")),
            language=language_code(article.get("language") if isinstance(article.get("language"), str) else None),
            country=outlet.country,
            source="gdelt",
        ))
    return NewsFeed(tuple(items))


def search_url(query: str, timespan: str | None = "3months", start: datetime | None = None) -> str:
    """The DOC API artlist URL for a quoted query (``start`` overrides ``timespan``)."""
    url = f"{API_URL}?query={quote(query)}&mode=artlist&format=json&maxrecords=250&sort=datedesc"
    if start is not None:
        return url + f"&startdatetime={start.astimezone(timezone.utc):%Y%m%d%H%M%S}"
    if timespan:
        url += f"&timespan={timespan}"
    return url
