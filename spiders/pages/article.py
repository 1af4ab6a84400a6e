"""Article pages: extract main text, title, date and canonical URL, and confirm a mention (pure).

* Main text and title: trafilatura (precision mode, no comments, no tables of links), so
  navigation, "most viewed", related-story teasers and comments are not part of the text
  the name is looked for in. A name that appears only there does NOT confirm.
* Link blocks: trafilatura keeps a short list of links to other stories when it sits inside
  the article container (KnowTechie's "Editors' Recommendations:" list, a photo credit made
  of three links; tests/fixtures/article/knowtechie-rally-en, soundofscience-hceres-fr).
  Before extraction every block that is mostly links is marked (:func:`link_blocks`: at least
  :data:`LINK_BLOCK_MIN_LINKS` links to other pages, link text at least
  :data:`LINK_BLOCK_DENSITY` of its text, at most :data:`LINK_BLOCK_MAX_OTHER` characters
  outside links and no run of text outside links longer than :data:`LINK_BLOCK_MAX_RUN`), by
  structure and link density, never by the words of a heading, together with the heading right
  before it unless that is the headline (:func:`with_headings`); its text is taken out of the
  extracted text afterwards, so a name only there never confirms. The marks are printable
  characters around each text node, so trafilatura's choice of container is unchanged (removing
  the blocks before extraction changed it on real pages).
* Captions: the text of ``<figcaption>`` and of elements whose class or id says "caption" (at
  most :data:`CAPTION_MAX_CHARS` characters) never confirms, even for the article's own photo:
  captions carry credits ("David McNew—Getty Images"), so a photographer who shares a name
  with a creator would confirm, and an agency photo illustrates a topic, not a report on the
  person pictured.
* In-body teaser lines ("Read more: …", "Lesen Sie auch: …", "関連記事：…") are dropped
  from the text: they name other stories.
* Furigana: ``<rt>``/``<rp>`` are removed before extraction, so "<ruby>虐待<rt>ぎゃくたい</rt></ruby>"
  reads "虐待" and Japanese phrases (and names) stay contiguous.
* Characters: numeric and named character references are decoded by the HTML parser
  (``&#26446;``, ``&#x674E;``, ``&#146;`` as ``’``); text and title are put in Unicode NFC, so a
  name written decomposed (``Zoe&#776;``, conjoining hangul jamo) reads as typed.
* Publication time (:func:`published_time`), keeping the time and the zone the page states:
  ``article:published_time``, JSON-LD ``datePublished``, ``itemprop="datePublished"`` or
  ``<time pubdate>``; else the byline right after the headline (numeric dates such as
  ``2023-11-07 15:03:30``, ``2018年6月18日 10:01``, ``19.01.2020``; its stated offset, else the
  zone of the outlet's country when the country has one); else a date meta of trafilatura's
  day. A page that states only a day gets that day at 00:00 UTC (the stored day is the
  page's day). A time is never replaced by a midnight, and a stated offset is kept.
* BeautifulSoup for what trafilatura does not give reliably: ``<link rel=canonical>``,
  ``og:url``/``og:title``, date meta and JSON-LD, ``<html lang>``.
* Outlet domain and country: ``enrichment.outlets`` (tldextract offline, ccTLD, outlet tables).
* Language: ``enrichment.language`` on the main text (lingua offline), else ``<html lang>``.

``parse(payload, url, status, aliases=[...], context=[...])``: without aliases the page is
extracted and ``confirmed`` is false with no alias, snippet or confidence.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from difflib import SequenceMatcher
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from records import Failure, FailureKind
from spiders.pages.news import NEWS_STATUSES
from spiders.pages.status import status_failure

PARSER_VERSION = "2"

_RUBY_NOTES = re.compile(r"<(rt|rp)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
#: Lines that introduce a link to another story; a name in them is not about this article.
_TEASER_LINE = re.compile(
    r"^\s*(read more|read also|also read|related( stories| articles| story| coverage)?|see also|more on this|"
    r"recommended|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|a lire aussi|lea también|leer más|"
    r"관련\s?기사|関連記事|関連ニュース|相关阅读|延伸阅读|相關閱讀)\s*[:：|]",
    re.IGNORECASE,
)

# --------------------------------------------------------------------------- link blocks

#: A link block holds at least this many links to other pages (a lone link is a sentence's).
LINK_BLOCK_MIN_LINKS = 2
#: ... and its link text is at least this share of its text. Readability.js removes a list or
#: div whose link density is above 0.5 (``_cleanConditionally``); The Sound Of Science's photo
#: credit line, plain words between three links, is 0.61.
LINK_BLOCK_DENSITY = 0.5
#: ... with at most this many characters outside links (a heading, "via", dates): more is an
#: article, a page wrapper or a card list with teasers.
LINK_BLOCK_MAX_OTHER = 200
#: ... and no run of text outside links longer than this: a sentence of its own ("Further
#: details are on e.Consult's pages:") is prose, not a list of links.
LINK_BLOCK_MAX_RUN = 100
#: A page title shorter than this (a bare site name) does not tell the headline from a heading.
_HEADLINE_MIN_CHARS = 12
#: Caption elements longer than this are containers that merely mention captions in a class.
CAPTION_MAX_CHARS = 400

#: Elements that can be a block of links (never inline ones, never the document itself).
_BLOCK_TAGS = frozenset(
    ["div", "section", "aside", "nav", "ul", "ol", "dl", "menu", "table", "tbody", "thead", "tfoot", "tr", "td", "th", "p", "li", "dd", "dt", "header", "footer", "figure", "figcaption", "article", "details", "summary", "form", "blockquote", "center", "main"]
)
#: Elements whose text is not page text.
_NOT_TEXT = frozenset({"script", "style", "template", "svg", "head", "title", "noembed"})
#: Marks around text that must not confirm; printable, so trafilatura keeps them.
_MARK_START, _MARK_END = "\u27e6\u27ea", "\u27eb\u27e7"
_MARKED = re.compile(re.escape(_MARK_START) + ".*?" + re.escape(_MARK_END), re.DOTALL)
_MARK_TO_EOL = re.compile(re.escape(_MARK_START) + "[^\n]*")
_LIST_BULLET = re.compile(r"^\s*[-•*·]?\s*$")


@dataclass(frozen=True)
class ArticlePage:
    """What one article page says, and whether it names the candidate."""

    url: str | None
    canonical_url: str | None
    title: str | None
    published_at: datetime | None  # aware, in the offset the page states (UTC for a bare day)
    language: str | None
    outlet_domain: str | None
    country: str | None
    confirmed: bool
    matched_alias: str | None = None
    snippet: str | None = None
    confidence: float | None = None
    text: str = field(default="", repr=False)  # main text, for re-matching; not printed
    outlet_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "published_at": iso_stated(self.published_at),
            "language": self.language,
            "outlet_domain": self.outlet_domain,
            "country": self.country,
            "confirmed": self.confirmed,
            "matched_alias": self.matched_alias,
            "snippet": self.snippet,
            "confidence": self.confidence,
        }


def iso_stated(value: datetime | None) -> str | None:
    """ISO 8601 in the offset the page stated: ``2020-02-18T18:07:56+09:00``, ``…Z`` for UTC."""
    if value is None:
        return None
    offset = value.utcoffset()
    if offset is None or offset == timedelta(0):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat(timespec="seconds")


def decode_html(payload: bytes) -> str:
    """Bytes -> text using the page's declared charset (BeautifulSoup's UnicodeDammit)."""
    from bs4.dammit import UnicodeDammit

    return UnicodeDammit(payload, is_html=True).unicode_markup or ""


def drop_teasers(text: str) -> str:
    """Remove in-body teaser lines ("Read more: …", "関連記事：…") that link to other stories."""
    return "\n".join(line for line in text.splitlines() if not _TEASER_LINE.match(line))


def strip_furigana(html: str) -> str:
    """Remove ``<rt>``/``<rp>`` readings so ruby base text stays contiguous."""
    return _RUBY_NOTES.sub("", html)


def _tag(element: Any) -> str | None:
    """The lower-case tag of an element; None for comments and processing instructions."""
    return element.tag.lower() if isinstance(element.tag, str) else None


def _length(text: str | None) -> int:
    """Characters of text once whitespace runs are one space (as a reader sees it)."""
    return len(" ".join(text.split())) if text else 0


def _links_elsewhere(anchor: Any) -> bool:
    href = (anchor.get("href") or "").strip().lower()
    return bool(href) and not href.startswith(("#", "javascript:"))


def link_blocks(root: Any) -> list[Any]:
    """The outermost elements of an lxml tree that are mostly links to other pages.

    One pass bottom-up counts, per element, its text, its link text, its links and the longest
    run of text outside links; a walk top-down then takes each block that qualifies (see the
    module docstring) and does not look inside it.
    """
    elements = list(root.iter())
    stats: dict[Any, tuple[int, int, int, int]] = {}
    for element in reversed(elements):  # every descendant before its ancestors
        tag = _tag(element)
        if tag is None or tag in _NOT_TEXT:
            stats[element] = (0, 0, 0, 0)
            continue
        total = longest = _length(element.text)
        linked = links = 0
        for child in element:
            c_total, c_linked, c_links, c_longest = stats[child]
            tail = _length(child.tail)
            total += c_total + tail
            linked += c_linked
            links += c_links
            longest = max(longest, c_longest, tail)
        if tag == "a" and total and _links_elsewhere(element):
            linked, links, longest = total, 1, 0
        stats[element] = (total, linked, links, longest)

    found = []
    stack = [root]
    while stack:
        element = stack.pop()
        tag = _tag(element)
        if tag is None or tag in _NOT_TEXT:
            continue
        total, linked, links, longest = stats[element]
        if (
            tag in _BLOCK_TAGS
            and links >= LINK_BLOCK_MIN_LINKS
            and linked >= LINK_BLOCK_DENSITY * total
            and total - linked <= LINK_BLOCK_MAX_OTHER
            and longest <= LINK_BLOCK_MAX_RUN
        ):
            found.append(element)
            continue
        stack.extend(reversed(list(element)))
    return found


def with_headings(blocks: list[Any], titles: Iterable[str | None] = ()) -> list[Any]:
    """The blocks and the heading (``<h2>``-``<h6>``) right before each: "Editors'
    Recommendations:", "More on Li Jiaqi" title the links, not the article.

    A heading that is the article's own headline (it holds one of ``titles``, the page's
    ``og:title``/``<title>``, or is held by one) stays: a blog's ``<h2>`` headline is often
    followed by a line of category and author links.
    """
    wanted = [" ".join(t.split()).lower() for t in titles if t and len(" ".join(t.split())) >= _HEADLINE_MIN_CHARS]
    found = list(blocks)
    for block in blocks:
        previous = block.getprevious()
        while previous is not None and _tag(previous) is None:  # comments between them
            previous = previous.getprevious()
        if previous is None or _tag(previous) not in {"h2", "h3", "h4", "h5", "h6"}:
            continue
        heading = " ".join(previous.text_content().split()).lower()
        if heading and any(title in heading or (len(heading) >= _HEADLINE_MIN_CHARS and heading in title)
                           for title in wanted):
            continue
        found.append(previous)
    return found


def caption_blocks(root: Any) -> list[Any]:
    """``<figcaption>`` elements and short elements whose class or id names a caption."""
    found = []
    for element in root.iter():
        tag = _tag(element)
        if tag is None or tag in _NOT_TEXT:
            continue
        if tag == "figcaption":
            found.append(element)
            continue
        names = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
        if "caption" in names and _length(element.text_content()) <= CAPTION_MAX_CHARS:
            found.append(element)
    return found


def mark_blocks(blocks: Iterable[Any]) -> int:
    """Put every text node inside ``blocks`` between marks (:func:`drop_marked` removes them)."""
    count = 0
    for block in blocks:
        count += 1
        for element in block.iter():
            tag = _tag(element)
            if tag is None or tag in _NOT_TEXT:
                continue
            if element.text and element.text.strip() and not element.text.startswith(_MARK_START):
                element.text = _MARK_START + element.text + _MARK_END
            if element is not block and element.tail and element.tail.strip() and not element.tail.startswith(_MARK_START):
                element.tail = _MARK_START + element.tail + _MARK_END
    return count


def drop_marked(text: str) -> str:
    """Text with marked spans removed, and lines they emptied (or left a bare bullet) dropped."""
    if _MARK_START not in text and _MARK_END not in text:
        return text
    text = _MARKED.sub("", text)
    text = _MARK_TO_EOL.sub("", text).replace(_MARK_END, "")  # a mark trafilatura cut short
    return "\n".join(line for line in text.splitlines() if not _LIST_BULLET.match(line))


def unmark(text: str | None) -> str | None:
    """Metadata (title, site name) keeps its words: only the marks go."""
    if not text:
        return text
    return text.replace(_MARK_START, "").replace(_MARK_END, "")


# --------------------------------------------------------------------------- dates

#: A numeric date: 2023-11-07, 2023/11/07, 2023.11.07, 2018年6月18日, 2023년 11월 7일; or 19.01.2020.
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年년]\s*(\d{1,2})\s*[-/.月월]\s*(\d{1,2})(?!\d)\s*[日일]?")
_DMY = re.compile(r"(?<!\d)(\d{1,2})\.(\d{1,2})\.(\d{4})(?!\d)")
#: A month and day without a year (06月24日): the year is taken from another date of the page.
_MD = re.compile(r"(?<!\d)(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
#: A time right after a date: 15:03:30, 10:01, 11時30分, 15시 03분, with an optional half of day.
_TIME = re.compile(
    r"[\s,|/\-–—Tt(\[]*(午前|午後|오전|오후)?\s*(\d{1,2})\s*(?:[:：]|時|시)\s*(\d{2})(?!\d)(?:[:：](\d{2})(?!\d))?"
    r"\s*(?:分|분)?\s*(am|a\.m\.|pm|p\.m\.)?(?![A-Za-z])",
    re.IGNORECASE,
)
#: An offset stated after a time: +09:00, UTC+9, GMT-5, UTC, GMT, or one of the zones whose
#: abbreviation means one offset (JST, KST, HKT, SGT, CET/CEST, BST, EST/EDT, PST/PDT, AEST/AEDT).
_ZONE = re.compile(
    r"\s*\(?\s*(?:(UTC|GMT|Z)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?|([+-])(\d{2}):?(\d{2})|"
    r"(JST|KST|HKT|SGT|CET|CEST|BST|EST|EDT|PST|PDT|AEST|AEDT))(?![A-Za-z])",
)
_ZONE_HOURS = {
    "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "CET": 1, "CEST": 2, "BST": 1, "EST": -5, "EDT": -4,
    "PST": -8, "PDT": -7, "AEST": 10, "AEDT": 11,
}
#: The page's own word for when it was published, in the order they are believed.
_PUBLISHED_META = (("property", "article:published_time"), ("name", "article:published_time"))
#: Date meta that may be the publication date, used when they fall on trafilatura's day.
_DATE_META = (
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("name", "date"),
    ("name", "dc.date"),
    ("name", "DC.date.issued"),
    ("property", "DC.date.issued"),
    ("property", "og:published_time"),
)
#: Byline strings read after the headline; a longer string is the article's body.
_BYLINE_STRINGS = 12
_BYLINE_MAX_STRING = 150
#: A month and day without a year must fall within this many days of the page's other date.
_YEARLESS_WINDOW = timedelta(days=31)


@dataclass(frozen=True)
class StatedTime:
    """A time as a page states it: ``kind`` "zoned" (with its offset), "wall" (a time of day in
    a zone not stated) or "day" (a date only, ``moment`` at 00:00)."""

    moment: datetime
    kind: str

    def resolved(self, zone: Any | None) -> StatedTime:
        """A wall time placed in ``zone`` (a callable giving the zone for a wall time), else its day."""
        if self.kind != "wall":
            return self
        offset = zone(self.moment) if zone else None
        if offset is None:
            return StatedTime(self.moment.replace(hour=0, minute=0, second=0, microsecond=0), "day")
        return StatedTime(self.moment.replace(tzinfo=offset), "zoned")

    def as_datetime(self) -> datetime:
        if self.kind == "zoned":
            offset = self.moment.utcoffset() or timedelta(0)
            return self.moment.replace(tzinfo=timezone(offset) if offset else UTC)
        return self.moment.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)

    @property
    def day(self) -> tuple[int, int, int]:
        """The date the page means, in its own offset."""
        return (self.moment.year, self.moment.month, self.moment.day)


def stated_time(value: str | None) -> StatedTime | None:
    """An ISO 8601 or RFC 2822 time, or a leading ``YYYY-MM-DD``, keeping what the page stated."""
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None:
        if parsed.tzinfo is not None:
            return StatedTime(parsed, "zoned")
        return StatedTime(parsed, "day" if len(value) <= 10 else "wall")
    try:
        mailed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        mailed = None
    if mailed is not None:
        return StatedTime(mailed, "zoned" if mailed.tzinfo else "wall")
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if match:
        try:
            return StatedTime(datetime(int(match[1]), int(match[2]), int(match[3])), "day")
        except ValueError:
            return None
    return None


def _meta(soup, attr: str, value: str) -> str | None:  # type: ignore[no-untyped-def]
    tag = soup.find("meta", attrs={attr: re.compile(f"^{re.escape(value)}$", re.IGNORECASE)})
    content = tag.get("content") if tag else None
    return content.strip() if isinstance(content, str) and content.strip() else None


def _json_ld_objects(soup) -> Iterator[dict[str, Any]]:  # type: ignore[no-untyped-def]
    for script in soup.find_all("script", type=re.compile(r"^\s*application/ld\+json\s*$", re.IGNORECASE)):
        try:
            data = json.loads(script.string or script.get_text() or "", strict=False)
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    stack.extend(graph)


def _json_ld_published(soup) -> list[str]:  # type: ignore[no-untyped-def]
    """JSON-LD ``datePublished`` values, those of article-like types first."""
    articles, others = [], []
    for item in _json_ld_objects(soup):
        value = item.get("datePublished")
        if not isinstance(value, str):
            continue
        kinds = item.get("@type")
        kinds = " ".join(kinds) if isinstance(kinds, list) else str(kinds or "")
        (articles if re.search(r"Article|Posting|Report", kinds) else others).append(value)
    return articles + others


def _itemprop_published(soup) -> list[str]:  # type: ignore[no-untyped-def]
    values = []
    for element in soup.find_all(attrs={"itemprop": re.compile(r"^\s*datePublished\s*$", re.IGNORECASE)}):
        value = element.get("content") or element.get("datetime") or element.get_text(" ", strip=True)
        if isinstance(value, str) and value.strip():
            values.append(value)
    for element in soup.find_all("time", attrs={"pubdate": True}):
        value = element.get("datetime")
        if isinstance(value, str) and value.strip():
            values.append(value)
    return values


def _headline(soup, title: str | None):  # type: ignore[no-untyped-def]
    """The ``<h1>`` that is the article's headline: the one most like the title, else the first."""
    headings = [h for h in soup.find_all("h1") if h.get_text(strip=True)]
    if not headings:
        return None
    if not title:
        return headings[0]
    wanted = " ".join(title.split()).lower()
    return max(headings, key=lambda h: SequenceMatcher(None, " ".join(h.get_text(" ", strip=True).split()).lower(),
                                                        wanted).ratio())


def _byline_text(soup, title: str | None) -> str | None:  # type: ignore[no-untyped-def]
    """The short strings right after the headline (where bylines give author and time)."""
    from bs4.element import Comment

    headline = _headline(soup, title)
    if headline is None:
        return None
    inside = {id(s) for s in headline.find_all(string=True)}
    pieces: list[str] = []
    for string in headline.find_all_next(string=True):
        if id(string) in inside or isinstance(string, Comment) or string.parent.name in _NOT_TEXT:
            continue
        text = " ".join(string.split())
        if not text:
            continue
        if len(text) > _BYLINE_MAX_STRING or len(pieces) >= _BYLINE_STRINGS:
            break
        pieces.append(text)
    return " | ".join(pieces) or None


def _stated_zone(rest: str) -> tzinfo | None:
    match = _ZONE.match(rest)
    if not match:
        return None
    if match[1]:  # UTC / GMT / Z, maybe with an offset
        hours = int(match[3] or 0)
        minutes = int(match[4] or 0)
        sign = -1 if match[2] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes)) if hours or minutes else UTC
    if match[5]:
        sign = -1 if match[5] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[6]), minutes=int(match[7])))
    return timezone(timedelta(hours=_ZONE_HOURS[match[8].upper()]))


def byline_times(text: str, reference: StatedTime | None = None) -> list[StatedTime]:
    """Every numeric date in a byline, with the time (and offset) that follows it, in text order.

    ``reference`` gives the year of a month-and-day date ("06月24日"), accepted only within
    :data:`_YEARLESS_WINDOW` of it.
    """
    found: list[tuple[int, StatedTime]] = []
    taken: list[tuple[int, int]] = []
    dated: list[tuple[re.Match[str], int, int, int]] = []
    for match in _YMD.finditer(text):
        dated.append((match, int(match[1]), int(match[2]), int(match[3])))
    for match in _DMY.finditer(text):
        dated.append((match, int(match[3]), int(match[2]), int(match[1])))
    for match, year, month, day in sorted(dated, key=lambda d: d[0].start()):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        taken.append((match.start(), match.end()))
        stamp = _dated(text, match, year, month, day)
        if stamp:
            found.append((match.start(), stamp))
    if reference is not None:
        for match in _MD.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            ref = datetime(*reference.day)
            for year in (ref.year, ref.year - 1, ref.year + 1):
                stamp = _dated(text, match, year, int(match[1]), int(match[2]))
                if stamp and abs(datetime(*stamp.day) - ref) <= _YEARLESS_WINDOW:
                    found.append((match.start(), stamp))
                    break
    return [stamp for _, stamp in sorted(found, key=lambda f: f[0])]


def _dated(text: str, match: re.Match[str], year: int, month: int, day: int) -> StatedTime | None:
    try:
        moment = datetime(year, month, day)
    except ValueError:
        return None
    clock = _TIME.match(text, match.end())
    if not clock:
        return StatedTime(moment, "day")
    hour, minute, second = int(clock[2]), int(clock[3]), int(clock[4] or 0)
    half = (clock[1] or clock[5] or "").lower().replace(".", "")
    if half in ("午後", "오후", "pm") and hour < 12:
        hour += 12
    elif half in ("午前", "오전", "am") and hour == 12:
        hour = 0
    try:
        moment = moment.replace(hour=hour, minute=minute, second=second)
    except ValueError:
        return StatedTime(moment, "day")
    zone = _stated_zone(text[clock.end():])
    return StatedTime(moment.replace(tzinfo=zone), "zoned") if zone else StatedTime(moment, "wall")


def published_time(soup, title: str | None, extracted_day: str | None,  # type: ignore[no-untyped-def]
                   zone: Any | None = None) -> datetime | None:
    """When the page says it was published (see the module docstring for the order).

    ``extracted_day`` is trafilatura's date (``YYYY-MM-DD``; it weighs many signals and skips
    "updated" and sidebar dates, but gives the day only); ``zone`` places a wall time of the
    byline (:func:`enrichment.outlets.wall_time_offset` for the outlet's country).
    """
    labelled: list[StatedTime] = []
    for attr, value in _PUBLISHED_META:
        stamp = stated_time(_meta(soup, attr, value))
        if stamp:
            labelled.append(stamp)
    labelled += [s for s in map(stated_time, _json_ld_published(soup)) if s]
    labelled += [s for s in map(stated_time, _itemprop_published(soup)) if s]
    labelled = [s.resolved(zone) for s in labelled]
    timed = next((s for s in labelled if s.kind == "zoned"), None)
    if timed:
        return timed.as_datetime()

    # A labelled day (datePublished "2020-01-19") is made exact only by a time on that day.
    day = stated_time(extracted_day)
    reference = labelled[0] if labelled else day
    byline_text = _byline_text(soup, title)
    byline = [s.resolved(zone) for s in byline_times(byline_text, reference)] if byline_text else []
    timed = min((s for s in byline if s.kind == "zoned" and (not labelled or s.day == labelled[0].day)),
                key=lambda s: s.moment, default=None)
    if timed:
        return timed.as_datetime()

    anchor = labelled[0] if labelled else day
    metas = [s.resolved(zone) for s in (stated_time(_meta(soup, a, v)) for a, v in _DATE_META) if s]
    timed = next((s for s in metas if s.kind == "zoned" and (anchor is None or s.day == anchor.day)), None)
    if timed:
        return timed.as_datetime()
    for stamp in (*labelled, *byline, day, *metas):
        if stamp is not None:
            return stamp.as_datetime()
    return None


# --------------------------------------------------------------------------- parse


def _canonical(soup, url: str | None) -> str | None:  # type: ignore[no-untyped-def]
    from enrichment.outlets import clean_url

    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rel = rel if isinstance(rel, list) else [rel]
        if "canonical" in [r.lower() for r in rel]:
            try:
                href = urljoin(url or "", link["href"].strip())
                if href.startswith(("http://", "https://")):
                    return clean_url(href)
            except ValueError:  # a malformed canonical link (e.g. "http://[x"): look further
                continue
    og_url = _meta(soup, "property", "og:url")
    if og_url and og_url.startswith(("http://", "https://")):
        try:
            return clean_url(og_url)
        except ValueError:
            pass
    return clean_url(url) if url and url.startswith(("http://", "https://")) else None


def _extract(html: str, url: str | None, titles: Sequence[str | None] = ()) -> Any:
    """trafilatura over the page with link blocks and captions marked (see the module docstring);
    ``titles`` are the page's own titles, whose headline is never taken for a block's heading."""
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is not None:
        mark_blocks([*with_headings(link_blocks(tree), titles), *caption_blocks(tree)])
    return trafilatura.bare_extraction(
        tree if tree is not None else html, url=url, with_metadata=True, include_comments=False,
        include_tables=False, favor_precision=True,  # no deduplicate: its process-wide cache drops a page seen twice
    )


def parse(
    payload: bytes,
    url: str | None = None,
    status: int | None = 200,
    aliases: Sequence[str] | None = None,
    context: Sequence[str] = (),
) -> ArticlePage | Failure:
    """An article page -> :class:`ArticlePage` (confirmed when an alias is in its own title/text)."""
    from bs4 import BeautifulSoup

    from enrichment.language import detect_language
    from enrichment.outlets import outlet_for, wall_time_offset
    from enrichment.press import confirm_mention

    failure = status_failure(status, NEWS_STATUSES, "article page")
    if failure:
        return failure
    if not payload or not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    html = strip_furigana(decode_html(payload))
    if "<" not in html[:2000] or not re.search(r"<(html|body|p|div|article)\b", html, re.IGNORECASE):
        return Failure(FailureKind.UNRECOGNIZED, "not an HTML page", status)
    soup = BeautifulSoup(html, "lxml")
    page_titles = (_meta(soup, "property", "og:title"), _meta(soup, "name", "twitter:title"),
                   soup.title.get_text(" ", strip=True) if soup.title else None)
    document = _extract(html, url, page_titles)
    text = (getattr(document, "text", None) or "") if document is not None else ""
    text = unicodedata.normalize("NFC", drop_teasers(drop_marked(text)))
    title = unmark(getattr(document, "title", None)) if document is not None else None
    if not title:
        title = _meta(soup, "property", "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else None)
    title = unicodedata.normalize("NFC", " ".join(title.split())) if title else None
    if not text and not title:
        return Failure(FailureKind.UNRECOGNIZED, "no article text or title found", status)

    canonical = _canonical(soup, url)
    outlet = outlet_for(canonical or url)
    day = getattr(document, "date", None) if document is not None else None
    published = published_time(soup, title, unmark(day), lambda wall: wall_time_offset(outlet.country, wall))
    language = detect_language(text[:4000]) if text else None
    if language is None:
        html_tag = soup.find("html")
        lang = html_tag.get("lang") if html_tag else None
        language = lang.split("-")[0].lower() if isinstance(lang, str) and lang else None

    confirmation = None
    if aliases:
        confirmation = confirm_mention(title, text, aliases, context)
    sitename = unmark(getattr(document, "sitename", None)) if document is not None else None
    return ArticlePage(
        url=url,
        canonical_url=canonical,
        title=title,
        published_at=published,
        language=language,
        outlet_domain=outlet.domain,
        country=outlet.country,
        confirmed=bool(confirmation and confirmation.confirmed),
        matched_alias=confirmation.matched_alias if confirmation else None,
        snippet=confirmation.snippet if confirmation else None,
        confidence=confirmation.confidence if confirmation else None,
        text=text,
        outlet_name=outlet.name or sitename,
    )


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
