"""The cohort table's view as a URL: every filter, the sort and the page are query parameters,
so a view can be bookmarked and shared, and the export of a view is the same URL under
``/desk/export.csv``.

| parameter | meaning |
|---|---|
| ``q`` | text in a name or alias (any script; case and Unicode form ignored) |
| ``platform`` (repeated) | has an account on one of them |
| ``country`` (repeated) | an IP location or declared place in that country (ISO alpha-2) |
| ``tier`` (repeated) | the follower tier |
| ``flag`` (repeated) | ``suspicious``, ``clean``, ``unjudged`` or a growth flag (``spike``...) |
| ``<index>_min`` / ``<index>_max`` | the raw index (0-100) of ``composite``, ``leadership``, ``sales_driving``, ``influence`` |
| ``min_coverage`` | the composite's coverage, 0-1 |
| ``list`` / ``status`` (repeated) | on that shortlist / with that status on it |
| ``active`` | ``active`` (default), ``inactive`` or ``all`` |
| ``sort`` / ``dir`` | a column key (``composite``, ``followers_bilibili``, ``freshness``...) / ``asc`` or ``desc`` |
| ``page`` / ``per`` | the page (from 1) / rows per page (10-200, default 50) |

The Leads tab (``/desk/leads``) has a view of its own, :class:`LeadsView`:

| parameter | meaning |
|---|---|
| ``status`` | ``new`` (default), ``promoted``, ``rejected`` or ``all`` |
| ``platform`` (repeated) | found on one of them |
| ``min_followers`` | at least this many followers (leads whose answer showed no count are left out then) |
| ``country`` (repeated) | the lead's country (ISO alpha-2) |
| ``sort`` / ``dir`` | ``score`` (default), ``followers`` or ``last_seen`` / ``asc`` or ``desc`` |
| ``page`` / ``per`` | as in the cohort table |

Values that do not parse are dropped (and the form shows what is in force), never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from records import PLATFORMS
from records.leads import LEAD_STATUSES
from storage.desk import SCORES, SORT_KEYS, SUSPICIOUS_FLAGS, CohortQuery
from storage.leads import LEAD_SORTS, LeadQuery
from storage.models import SHORTLIST_STATUSES

FLAG_CHOICES = ("suspicious", "clean", "unjudged", *SUSPICIOUS_FLAGS)
TIERS = ("nano", "micro", "mid", "macro", "mega")
PER_PAGE = (10, 25, 50, 100, 200)
MAX_TEXT = 200


def _floats(params: QueryParams, name: str, low: float, high: float) -> float | None:
    try:
        value = float(params.get(name, ""))
    except ValueError:
        return None
    return value if low <= value <= high else None


def _int(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name, "")
    return min(high, max(low, int(text))) if text.isascii() and text.isdigit() and len(text) < 10 else default


def _countries(params: QueryParams) -> tuple[str, ...]:
    given = [part for value in params.getlist("country") for part in re.split(r"[\s,]+", value) if part]
    return tuple(c.upper() for c in dict.fromkeys(given) if re.fullmatch(r"[A-Za-z]{2}", c))


class PagedView:
    """What the cohort table's and the Leads tab's views share: sorting and paging in the URL.
    A subclass (a frozen dataclass with ``query``, ``page`` and ``per``) names its default sort
    and path, and lists its own filters in ``filter_pairs``."""

    DEFAULT_SORT: ClassVar[str] = ""
    DEFAULT_PATH: ClassVar[str] = "/"

    @property
    def filter_pairs(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The view as query parameters, in a stable order (defaults left out)."""
        q = self.query  # type: ignore[attr-defined]
        out = self.filter_pairs
        if q.sort != self.DEFAULT_SORT or not q.descending:
            out += [("sort", q.sort), ("dir", "desc" if q.descending else "asc")]
        if self.per != 50:  # type: ignore[attr-defined]
            out.append(("per", str(self.per)))  # type: ignore[attr-defined]
        if self.page != 1:  # type: ignore[attr-defined]
            out.append(("page", str(self.page)))  # type: ignore[attr-defined]
        return out

    def url(self, path: str | None = None, **changes: object) -> str:
        """This view's URL at ``path`` (else the view's own page), with ``page``/``sort``/``dir``
        changed if given (a new sort starts at page 1)."""
        view: Any = self
        if "sort" in changes:
            descending = changes.get("dir", "desc") == "desc"
            view = replace(view, query=replace(view.query, sort=str(changes["sort"]), descending=descending), page=1)
        if "page" in changes:
            view = replace(view, page=int(changes["page"]))  # type: ignore[call-overload]
        query = urlencode(view.pairs)
        path = self.DEFAULT_PATH if path is None else path
        return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class CohortView(PagedView):
    """A parsed view: the storage query and the page number."""

    DEFAULT_SORT: ClassVar[str] = "composite"

    query: CohortQuery
    page: int
    per: int

    @property
    def filter_pairs(self) -> list[tuple[str, str]]:
        q = self.query
        out: list[tuple[str, str]] = []
        if q.text:
            out.append(("q", q.text))
        out += [("platform", p) for p in q.platforms] + [("country", c) for c in q.countries]
        out += [("tier", t) for t in q.tiers] + [("flag", f) for f in q.flags]
        for name, low, high in q.ranges:
            if low is not None:
                out.append((f"{name}_min", f"{low:g}"))
            if high is not None:
                out.append((f"{name}_max", f"{high:g}"))
        if q.min_coverage is not None:
            out.append(("min_coverage", f"{q.min_coverage:g}"))
        if q.shortlist_id is not None:
            out.append(("list", str(q.shortlist_id)))
            out += [("status", s) for s in q.statuses]
        if q.active is not True:
            out.append(("active", "all" if q.active is None else "inactive"))
        return out

    def range_value(self, name: str, end: str) -> str:
        for index, low, high in self.query.ranges:
            if index == name:
                value = low if end == "min" else high
                return "" if value is None else f"{value:g}"
        return ""


def parse_view(params: QueryParams, shortlist_ids: set[int] | None = None) -> CohortView:
    """The view a URL's query parameters describe (unparseable values dropped)."""
    text = " ".join(params.get("q", "").split())[:MAX_TEXT]
    text = "".join(ch for ch in text if ch.isprintable())
    platforms = tuple(p for p in dict.fromkeys(params.getlist("platform")) if p in PLATFORMS)
    countries = _countries(params)
    tiers = tuple(t for t in dict.fromkeys(params.getlist("tier")) if t in TIERS)
    flags = tuple(f for f in dict.fromkeys(params.getlist("flag")) if f in FLAG_CHOICES)
    ranges = []
    for name in SCORES:
        low, high = _floats(params, f"{name}_min", 0, 100), _floats(params, f"{name}_max", 0, 100)
        if low is not None or high is not None:
            ranges.append((name, low, high))
    min_coverage = _floats(params, "min_coverage", 0, 1)
    shortlist_id = _int(params, "list", 0, 0, 2**31 - 1) or None
    if shortlist_ids is not None and shortlist_id not in shortlist_ids:
        shortlist_id = None
    statuses = tuple(s for s in dict.fromkeys(params.getlist("status")) if s in SHORTLIST_STATUSES) if shortlist_id else ()
    active = {"all": None, "inactive": False}.get(params.get("active", ""), True)
    sort = params.get("sort", "composite")
    if sort not in SORT_KEYS and not (sort.startswith("followers_") and sort[len("followers_"):] in PLATFORMS):
        sort = "composite"
    descending = params.get("dir", "desc") != "asc"
    per = _int(params, "per", 50, 10, 200)
    page = _int(params, "page", 1, 1, 10**6)
    query = CohortQuery(text=text, platforms=platforms, countries=countries, tiers=tiers, ranges=tuple(ranges),
                        min_coverage=min_coverage, flags=flags, shortlist_id=shortlist_id, statuses=statuses,
                        active=active, sort=sort, descending=descending, offset=(page - 1) * per, limit=per)
    return CohortView(query=query, page=page, per=per)


#: The Leads tab's status filter: a lead status, or every lead.
LEAD_STATUS_CHOICES = (*LEAD_STATUSES, "all")


@dataclass(frozen=True)
class LeadsView(PagedView):
    """The Leads tab's parsed view: the storage query, the status chosen and the page."""

    DEFAULT_SORT: ClassVar[str] = "score"
    DEFAULT_PATH: ClassVar[str] = "/desk/leads"

    query: LeadQuery
    status: str
    page: int
    per: int

    @property
    def filter_pairs(self) -> list[tuple[str, str]]:
        q = self.query
        out: list[tuple[str, str]] = []
        if self.status != "new":
            out.append(("status", self.status))
        out += [("platform", p) for p in q.platforms]
        if q.min_followers is not None:
            out.append(("min_followers", str(q.min_followers)))
        out += [("country", c) for c in q.countries]
        return out


def parse_leads_view(params: QueryParams) -> LeadsView:
    """The Leads tab's view from a URL's query parameters (unparseable values dropped)."""
    status = params.get("status", "new")
    if status not in LEAD_STATUS_CHOICES:
        status = "new"
    platforms = tuple(p for p in dict.fromkeys(params.getlist("platform")) if p in PLATFORMS)
    text = params.get("min_followers", "")
    min_followers = int(text) if text.isascii() and text.isdigit() and len(text) < 13 else None
    sort = params.get("sort", "score")
    if sort not in LEAD_SORTS:
        sort = "score"
    descending = params.get("dir", "desc") != "asc"
    per = _int(params, "per", 50, 10, 200)
    page = _int(params, "page", 1, 1, 10**6)
    query = LeadQuery(status=None if status == "all" else status, platforms=platforms, min_followers=min_followers,
                      countries=_countries(params), sort=sort, descending=descending, offset=(page - 1) * per, limit=per)
    return LeadsView(query=query, status=status, page=page, per=per)
