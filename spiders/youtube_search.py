"""YouTube search: channels and videos, through InnerTube (or the Data API with a key).

How answers are read is in :mod:`spiders.pages.youtube_search`; what every search spider
shares in :mod:`spiders.search`. With ``YOUTUBE_API_KEY`` the Data API's ``search.list`` is
asked (the key in the ``X-Goog-Api-Key`` header, never in the URL; 100 quota units a call);
without it the web client's own InnerTube search, with Google's consent cookie as the
profile spider sends it.
"""

from __future__ import annotations

from records.leads import SearchQuery
from spiders.base import Source
from spiders.pages.youtube import CONSENT_COOKIES, DEFAULT_CLIENT_VERSION
from spiders.pages.youtube_search import (
    INNERTUBE_URL,
    PARSER_VERSION,
    PLATFORM,
    continuation_body,
    data_api_url,
    innertube_body,
    parse,
)
from spiders.search import SearchSpider
from spiders.youtube import YouTubeSpider, api_key


class YouTubeSearchSpider(SearchSpider):
    """YouTube channel and video search, one request at a time."""

    name = "youtube_search"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["youtube.com", "googleapis.com"]
    custom_settings = dict(YouTubeSpider.custom_settings)

    def search_source(self, query: SearchQuery, page: str | None) -> Source | None:
        key = api_key()
        name = f"{self.name}.{query.kind}"
        if key:
            return Source(url=data_api_url(query.kind, query.text, page), parser=parse, name=name,
                          headers={"X-Goog-Api-Key": key, "Accept": "application/json"})
        return Source(
            url=INNERTUBE_URL,
            parser=parse,
            name=name,
            method="POST",
            body=continuation_body(page) if page else innertube_body(query.text, query.kind),
            headers={"Content-Type": "application/json", "X-YouTube-Client-Name": "1",
                     "X-YouTube-Client-Version": DEFAULT_CLIENT_VERSION},
            cookies=dict(CONSENT_COOKIES),
        )
