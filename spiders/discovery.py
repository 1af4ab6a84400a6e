"""Discovery planning: seeds become search queries, known accounts' texts become graph leads.

Pure (no Scrapy, no database): the ``discover`` command loads the seeds and the stored texts
of known creators and hands them here; the search spiders (:mod:`spiders.search`) call
:func:`expand` on every hit to follow it one more hop. See docs/discovery.md.

* **Seeds** (:class:`Seed`): a keyword, a hashtag, a brand of the brand dictionary or a
  registered creator. :func:`load_seed_file` reads ``crawler/data/seeds.toml`` (keywords and
  hashtags per language, brands, creators, and per platform the languages and kinds
  searched); :func:`plan_queries` turns seeds into each platform's
  :class:`~records.leads.SearchQuery` list, each query once.
* **Graph expansion** (:func:`expand`): what an account's own texts name - profile links in
  its bio and link list (:func:`spiders.pages.identity.linked_accounts`), ``@mentions`` in its
  bio and posts. On platforms where a mention is a handle (YouTube, Instagram, TikTok, X) it
  names the account at once; on Weibo, Bilibili and Xiaohongshu it is a display name, which a
  search for that exact name resolves (a ``resolve`` query: a request, counted in the budget).
  Collaborators a platform lists on a video come from the search answers themselves.

Only what a public profile or search answer shows is read: never follower lists.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enrichment.brands import Brand, default_brands
from records import PLATFORM_TABLE, AccountRef
from records.leads import SEED_KINDS, Hit, SearchQuery
from spiders.pages.identity import account_key, linked_accounts

#: The platforms a search spider exists for (``spiders/<platform>_search.py``), in order.
SEARCH_PLATFORMS: tuple[str, ...] = ("bilibili", "weibo", "xiaohongshu", "youtube")
#: Platforms where ``@name`` is a handle (an account id), not a display name.
HANDLE_MENTIONS = frozenset({"youtube", "instagram", "tiktok", "x"})
#: The languages each kind of platform searches brand names in (a brand's Chinese name on
#: Chinese platforms, its Latin name elsewhere).
_CHINESE = re.compile(r"[\u3400-\u9fff]")
#: An ``@mention``: up to 30 characters that are not blanks or punctuation ending a name.
_MENTION = re.compile(r"(?<![\w.])@([^\s@:：,，。!！?？、;；()（）\[\]【】#/|｜'\"“”<>]{1,30})")


class SeedError(ValueError):
    """A seed or seed file that cannot be used (the message says what and where)."""


@dataclass(frozen=True)
class Seed:
    kind: str  # one of records.leads.SEED_KINDS
    value: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


def parse_seed(text: str) -> Seed:
    """``keyword:海淘``, ``hashtag:开箱`` or ``#开箱``, ``brand:Lancôme``, ``creator:12``; bare text is a keyword."""
    value = unicodedata.normalize("NFKC", text).strip()
    kind, sep, rest = value.partition(":")
    if sep and kind.strip().lower() in SEED_KINDS and rest.strip():
        kind, value = kind.strip().lower(), rest.strip()
    elif value.startswith("#"):
        kind = "hashtag"
    else:
        kind = "keyword"
    if kind == "hashtag":
        value = value.strip("#").strip()
    if not value or any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in value):
        raise SeedError(f"seed {text!r} is empty or holds control characters")
    if len(value) > 100:
        raise SeedError(f"seed {text!r} is longer than 100 characters")
    if kind == "brand":
        find_brand(value)  # raises for a brand the dictionary does not know
    return Seed(kind, value)


def find_brand(name: str) -> Brand:
    """The dictionary's brand named ``name`` (display name or alias, any case)."""
    key = unicodedata.normalize("NFKC", name).casefold()
    for brand in default_brands().brands:
        if key in {unicodedata.normalize("NFKC", n).casefold() for n in (brand.name, *brand.aliases)}:
            return brand
    raise SeedError(f"brand {name!r} is not in the brand dictionary (enrichment/data/brands.csv)")


@dataclass(frozen=True)
class PlatformPlan:
    languages: tuple[str, ...] = ("zh",)
    kinds: tuple[str, ...] = ("users", "posts")


@dataclass
class SeedFile:
    """What a seeds TOML holds."""

    keywords: dict[str, list[str]] = field(default_factory=dict)  # language -> keywords
    hashtags: dict[str, list[str]] = field(default_factory=dict)
    brands: list[str] = field(default_factory=list)
    creators: list[str] = field(default_factory=list)
    platforms: dict[str, PlatformPlan] = field(default_factory=dict)

    def seeds(self) -> list[Seed]:
        """Every seed of the file, keywords first (their language is kept by :func:`plan_queries`)."""
        found: list[Seed] = []
        for words in self.keywords.values():
            found += [Seed("keyword", w) for w in words]
        for tags in self.hashtags.values():
            found += [Seed("hashtag", t.strip("#")) for t in tags]
        found += [Seed("brand", find_brand(b).name) for b in self.brands]
        found += [Seed("creator", c) for c in self.creators]
        return list(dict.fromkeys(found))

    def language_of(self, seed: Seed) -> str | None:
        table = self.keywords if seed.kind == "keyword" else self.hashtags if seed.kind == "hashtag" else {}
        for language, words in table.items():
            if seed.value in words or f"#{seed.value}" in words:
                return language
        return None


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SeedError(f"{where} must be a list of non-empty strings")
    return [v.strip() for v in value]


def load_seed_file(path: Path) -> SeedFile:
    """Read a seeds TOML (``crawler/data/seeds.toml`` documents the format)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SeedError(f"{path}: not valid TOML ({exc})") from None
    seeds = SeedFile()
    for table in ("keywords", "hashtags"):
        for language, words in (data.get(table) or {}).items():
            getattr(seeds, table)[str(language)] = _strings(words, f"{path}: [{table}] {language}")
    seeds.brands = _strings((data.get("brands") or {}).get("names", []), f"{path}: [brands] names")
    for name in seeds.brands:
        find_brand(name)
    seeds.creators = _strings((data.get("creators") or {}).get("names", []), f"{path}: [creators] names")
    for platform, plan in (data.get("platforms") or {}).items():
        if platform not in SEARCH_PLATFORMS:
            raise SeedError(f"{path}: [platforms.{platform}]: no search spider for {platform!r} "
                            f"(known: {', '.join(SEARCH_PLATFORMS)})")
        kinds = tuple(_strings(plan.get("kinds", ["users", "posts"]), f"{path}: [platforms.{platform}] kinds"))
        unknown = [k for k in kinds if k not in ("users", "posts")]
        if unknown:
            raise SeedError(f"{path}: [platforms.{platform}] kinds: {unknown[0]!r} is not users or posts")
        languages = tuple(_strings(plan.get("languages", ["zh"]), f"{path}: [platforms.{platform}] languages"))
        seeds.platforms[platform] = PlatformPlan(languages=languages, kinds=kinds)
    return seeds


def hashtag_text(platform: str, tag: str) -> str:
    """A hashtag as the platform writes it: Weibo's topics are closed (``#海淘#``), others are not."""
    return f"#{tag}#" if platform == "weibo" else f"#{tag}"


def brand_text(platform: str, brand: Brand) -> str:
    """The brand name a platform's users write: its Chinese name on Chinese platforms (when the
    dictionary has one), its Latin name elsewhere."""
    chinese = [a for a in brand.aliases if _CHINESE.search(a)]
    latin = [a for a in brand.aliases if not _CHINESE.search(a)]
    domestic = PLATFORM_TABLE[platform].domestic
    return ((chinese or latin) if domestic else (latin or chinese))[0]


def plan_queries(seeds: Iterable[Seed], platforms: Iterable[str], plans: dict[str, PlatformPlan] | None = None,
                 languages: dict[Seed, str | None] | None = None) -> dict[str, list[SearchQuery]]:
    """Each platform's queries for the keyword, hashtag and brand seeds (creator seeds are
    expanded, not searched), once per (kind, text), seeds in order. A keyword or hashtag whose
    language a platform does not search is left out there; one of no known language is asked
    everywhere."""
    plans = plans or {}
    languages = languages or {}
    planned: dict[str, list[SearchQuery]] = {}
    for platform in platforms:
        plan = plans.get(platform, PlatformPlan(languages=("zh",) if PLATFORM_TABLE[platform].domestic else ("en", "zh")))
        queries: dict[tuple[str, str], SearchQuery] = {}
        for seed in seeds:
            if seed.kind == "creator":
                continue
            language = languages.get(seed)
            if seed.kind in ("keyword", "hashtag") and language is not None and language not in plan.languages:
                continue
            text = (hashtag_text(platform, seed.value) if seed.kind == "hashtag"
                    else brand_text(platform, find_brand(seed.value)) if seed.kind == "brand" else seed.value)
            for kind in plan.kinds:
                queries.setdefault((kind, text), SearchQuery(seed_kind=seed.kind, seed=seed.value, text=text, kind=kind))
        planned[platform] = list(queries.values())
    return planned


# --------------------------------------------------------------------------- graph expansion


@dataclass(frozen=True)
class KnownAccount:
    """What is stored (or shown) of one account: the texts expansion reads."""

    platform: str
    platform_user_id: str | None = None
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None
    links: tuple[str, ...] = ()
    posts: tuple[tuple[str | None, str], ...] = ()  # (post URL, text)

    @property
    def label(self) -> str:
        """``platform:id`` (or handle): how a lead names the account it was found through."""
        return f"{self.platform}:{self.platform_user_id or self.handle}"

    @classmethod
    def of_hit(cls, hit: Hit) -> KnownAccount:
        return cls(platform=hit.platform, platform_user_id=hit.platform_user_id, handle=hit.handle,
                   display_name=hit.display_name, bio=hit.bio, posts=((hit.post_url, hit.text),) if hit.text else ())


@dataclass(frozen=True)
class Expansion:
    """What one account's texts name: accounts known at once (``hits``, each with the link or
    mention it came from) and display names a search must resolve (``queries``)."""

    hits: tuple[Hit, ...] = ()
    queries: tuple[SearchQuery, ...] = ()


def mentions_in(text: str | None) -> list[str]:
    """The ``@names`` in a text, once each, in order (trailing dots and dashes dropped)."""
    found: list[str] = []
    for match in _MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".-_~")
        if name and name not in found:
            found.append(name)
    return found


def expand(account: KnownAccount, *, seed_kind: str, seed: str, hop: int,
           resolvable: Iterable[str] = SEARCH_PLATFORMS) -> Expansion:
    """The accounts ``account``'s bio, links and posts name, as hits of hop ``hop`` (links and
    handle mentions) and as ``resolve`` queries (display-name mentions on a platform in
    ``resolvable``). The account itself is never among them."""
    own = {account_key(account.platform, AccountRef(platform=account.platform, handle=account.handle,
                                                    platform_user_id=account.platform_user_id))}
    own.add(account_key(account.platform, AccountRef(platform=account.platform, platform_user_id=account.platform_user_id)))
    hits: list[Hit] = []
    seen: set[tuple[str, str, str]] = set(own)
    for platform, ref, link in linked_accounts(account.links, account.bio):
        key = account_key(platform, ref)
        if key not in seen:
            seen.add(key)
            hits.append(Hit(platform=platform, platform_user_id=ref.platform_user_id, handle=ref.handle,
                            text=f"linked from {account.label}: {link}", via="link"))
    queries: list[SearchQuery] = []
    names: set[str] = set()
    texts = [(None, account.bio), *account.posts]
    own_names = {_name_key(account.display_name), _name_key(account.handle)}
    allowed = set(resolvable)
    for post_url, text in texts:
        for name in mentions_in(text):
            if _name_key(name) in own_names:
                continue
            if account.platform in HANDLE_MENTIONS:
                pattern = PLATFORM_TABLE[account.platform].handle
                if pattern is None or not pattern.match(name):
                    continue
                key = account_key(account.platform, AccountRef(platform=account.platform, handle=name))
                if key not in seen:
                    seen.add(key)
                    hits.append(Hit(platform=account.platform, handle=name, post_url=post_url,
                                    text=f"@{name} in {post_url or 'the bio of ' + account.label}", via="mention"))
            elif account.platform in allowed and _name_key(name) not in names:
                names.add(_name_key(name))
                queries.append(SearchQuery(seed_kind=seed_kind, seed=seed, text=name, kind="resolve", hop=hop,
                                           exact_name=name, via_account=account.label, post_url=post_url))
    return Expansion(hits=tuple(hits), queries=tuple(queries))


def _name_key(name: str | None) -> str:
    return unicodedata.normalize("NFKC", name or "").casefold().strip()


def same_name(a: str | None, b: str | None) -> bool:
    """Display names compared as a person reads them (case and Unicode form ignored)."""
    return bool(a and b) and _name_key(a) == _name_key(b)

