"""Benchmark: how many leads a replayed search session finds per 100 requests, how many of
its sightings are duplicates (across sources and platforms' pages), and how long ``similar``
takes for one candidate against 100,000 leads.

1. **Search session** (``wangzi discover --replay``, Scrapy's real download path, the real
   parsers, pipeline and storage): ``--keywords`` seed keywords x Bilibili, Weibo and YouTube
   (the Data API path, so every page has its own URL) x users and posts x ``--pages`` pages.
   The answers are generated in each platform's real shape (Bilibili's from the real video
   search answer of bilibili-API-collect, Weibo's and YouTube's from the synthetic fixtures'
   shapes), 20 hits a page, accounts drawn from a pool per platform with Zipf popularity - as
   real search results are: a few accounts come back for many queries. Xiaohongshu's page
   needs Chromium and is left out here (tests/test_replay_search.py covers it).
   Reported: requests, sightings, new leads, leads per 100 requests, the share of sightings
   that were duplicates, and the share of leads that more than one source saw.
2. **Lookalikes** (``enrichment.similarity``): ``--leads`` synthetic lead documents (mixed
   Chinese/Latin text from beauty/shopping/travel/gaming vocabularies, brands of the
   dictionary, countries, languages) and 50 candidates; the index build time, then one
   candidate's ``similar`` (``--queries`` times, median and worst). Target: < 1 s per query.

    python benchmarks/discovery.py
    python benchmarks/discovery.py --keywords 3 --pages 2 --leads 20000
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.replay import Exchange, write_har  # noqa: E402
from enrichment.brands import default_brands  # noqa: E402
from enrichment.similarity import Document, LookalikeIndex  # noqa: E402
from spiders.pages.bilibili_search import SEARCH_URL as BILIBILI_SEARCH  # noqa: E402
from spiders.pages.weibo_search import search_url as weibo_url  # noqa: E402
from spiders.pages.youtube_search import data_api_url  # noqa: E402
from storage.db import upgrade  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
KEYWORDS = ["海淘", "代购", "海外好物", "开箱", "留学生活", "免税", "日本药妆", "haul", "unboxing", "duty free"]
JSON = {"Content-Type": "application/json; charset=utf-8"}
POOL = 400  # accounts per platform
PER_PAGE = 20


def _zipf(rng: random.Random, n: int) -> int:
    """An account index in 0..n-1, popular ones far more often (Zipf, s = 1.1)."""
    weights = [1 / (i + 1) ** 1.1 for i in range(n)]
    return rng.choices(range(n), weights)[0]


def _brands(rng: random.Random) -> list[str]:
    names = [a for b in default_brands().brands[:120] for a in b.aliases[:1]]
    return rng.sample(names, rng.randint(0, 2))


def bilibili_page(rng: random.Random, kind: str, page: int, pages: int) -> bytes:
    real = json.loads((FIXTURES / "bilibili_search" / "video_search_shaonian_2020" / "response.json").read_bytes())
    template = real["data"]["result"][0]
    items = []
    for _ in range(PER_PAGE):
        n = _zipf(rng, POOL)
        title = " ".join([rng.choice(KEYWORDS), *_brands(rng), "测评"])
        if kind == "users":
            items.append({"type": "bili_user", "mid": 100000 + n, "uname": f"UP主{n}", "usign": f"分享{title}",
                          "fans": 1000 * (POOL - n), "official_verify": {"type": 127, "desc": ""}, "res": [{"title": title}]})
        else:
            item = copy.deepcopy(template)
            item.update({"mid": 100000 + n, "author": f"UP主{n}", "title": title, "bvid": f"BV1{n:09d}", "tag": "海淘,开箱"})
            items.append(item)
    real["data"].update({"page": page, "numPages": pages, "result": items})
    return json.dumps(real, ensure_ascii=False).encode()


def weibo_page(rng: random.Random, kind: str, page: int, pages: int) -> bytes:
    cards = []
    for _ in range(PER_PAGE):
        n = _zipf(rng, POOL)
        user = {"id": 7000000000 + n, "screen_name": f"博主{n}", "description": "海外生活 好物分享",
                "followers_count": 500 * (POOL - n), "verified": n % 7 == 0}
        if kind == "users":
            cards.append({"card_type": 10, "user": user, "desc2": f"粉丝：{500 * (POOL - n)}"})
        else:
            text = " ".join([rng.choice(KEYWORDS), *_brands(rng)])
            cards.append({"card_type": 9, "mblog": {"idstr": f"52{n:014d}", "text": text, "user": user,
                                                    "region_name": rng.choice(["发布于 日本", "发布于 美国", "发布于 上海"])}})
    data = {"cardlistInfo": {"page": page + 1 if page < pages else None}, "cards": [{"card_type": 11, "card_group": cards}]}
    return json.dumps({"ok": 1, "data": data}, ensure_ascii=False).encode()


def youtube_page(rng: random.Random, kind: str, page: int, pages: int) -> bytes:
    items = []
    for _ in range(PER_PAGE):
        n = _zipf(rng, POOL)
        channel = f"UC{n:022d}"
        if kind == "users":
            items.append({"kind": "youtube#searchResult", "id": {"kind": "youtube#channel", "channelId": channel},
                          "snippet": {"channelId": channel, "title": f"Channel {n}", "description": "hauls and unboxings"}})
        else:
            title = " ".join([rng.choice(KEYWORDS), *_brands(rng), "review"])
            items.append({"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": f"v{n:010d}"},
                          "snippet": {"channelId": channel, "channelTitle": f"Channel {n}", "title": title, "description": ""}})
    answer = {"kind": "youtube#searchListResponse", "items": items}
    if page < pages:
        answer["nextPageToken"] = f"p{page + 1}"
    return json.dumps(answer, ensure_ascii=False).encode()


def search_session(keywords: int, pages: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    words = KEYWORDS[:keywords]
    exchanges = [Exchange(url="https://api.bilibili.com/x/web-interface/nav", headers=JSON,
                          body=(FIXTURES / "bilibili" / "nav_not_logged_in_code_-101" / "response.json").read_bytes())]
    for word in words:
        for kind in ("users", "posts"):
            for page in range(1, pages + 1):
                search_type = "bili_user" if kind == "users" else "video"
                exchanges.append(Exchange(url=f"{BILIBILI_SEARCH}?search_type={search_type}&keyword={word}&page={page}",
                                          headers=JSON, body=bilibili_page(rng, kind, page, pages)))
                exchanges.append(Exchange(url=weibo_url(kind, word, page), headers=JSON, body=weibo_page(rng, kind, page, pages)))
                token = None if page == 1 else f"p{page}"
                exchanges.append(Exchange(url=data_api_url(kind, word, token), headers=JSON,
                                          body=youtube_page(rng, kind, page, pages)))
    with tempfile.TemporaryDirectory() as folder:
        har = write_har(Path(folder) / "session.har", exchanges)
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        args = [sys.executable, "-m", "crawler.cli", "discover", "--replay", str(har), "--json", "--pages", str(pages),
                "--hops", "0", "--max-requests", "100000", "-p", "bilibili", "-p", "weibo", "-p", "youtube"]
        for word in words:
            args += ["--seed", word]
        env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO), "YOUTUBE_API_KEY": "benchmark-key",
               "WANGZI_ARCHIVE_ENABLED": "false"}
        started = time.perf_counter()
        process = subprocess.run(args, env=env, capture_output=True, text=True, cwd=folder)
        took = time.perf_counter() - started
        if process.returncode not in (0, 1):
            raise SystemExit(process.stderr[-2000:])
        summary = json.loads(process.stdout)
        from sqlmodel import select

        from storage.db import session_scope
        from storage.models import Lead, LeadSighting

        with session_scope(url) as session:
            leads = session.exec(select(Lead)).all()
            per_lead: dict[int, set[str]] = {}
            for sighting in session.exec(select(LeadSighting)):
                per_lead.setdefault(sighting.lead_id, set()).add(sighting.source)
            hits = sum(lead.sightings for lead in leads)
    requests = sum(v or 0 for v in summary["requests"].values())
    unique = len(leads)
    return {
        "requests": requests,
        "hits": hits,
        "leads": unique,
        "leads_per_100_requests": 100 * unique / requests if requests else 0.0,
        "duplicate_hit_share": 1 - unique / hits if hits else 0.0,
        "multi_source_lead_share": sum(1 for s in per_lead.values() if len(s) > 1) / unique if unique else 0.0,
        "seconds": took,
        "failures": len(summary["failures"]),
    }


VOCABULARY = {
    "beauty": "药妆 开箱 测评 面霜 精华 防晒 口红 护肤 skincare haul review serum sunscreen makeup",
    "shopping": "海淘 代购 免税 直邮 转运 扫货 奥特莱斯 退税 duty free outlet shopping tax refund",
    "travel": "留学生活 日常 vlog 旅行 攻略 东京 巴黎 纽约 首尔 study abroad travel diary",
    "gaming": "原神 抽卡 攻略 直播 深渊 手游 电竞 gaming stream walkthrough",
}
COUNTRIES = ["JP", "US", "FR", "KR", "GB", "AU", None, None]
LANGUAGES = ["en", "ja", "ko", "fr", None, None]


def synthetic_documents(n: int, rng: random.Random, kind: str = "lead") -> list[Document]:
    brands = [b.name for b in default_brands().brands]
    topics = list(VOCABULARY)
    docs = []
    for i in range(n):
        topic = rng.choice(topics)
        words = VOCABULARY[topic].split()
        own = rng.sample(brands, rng.randint(0, 4)) if topic != "gaming" else []
        text = " ".join(rng.choices(words, k=rng.randint(15, 40)) + own)
        country = rng.choice(COUNTRIES)
        language = rng.choice(LANGUAGES)
        docs.append(Document(kind=kind, ident=i + 1, name=f"{kind} {i + 1}", text=text, brands=frozenset(own),
                             countries=frozenset({country} if country else ()),
                             languages=frozenset({language} if language else ()), platform="weibo"))
    return docs


def lookalikes(leads: int, queries: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    documents = synthetic_documents(leads, rng) + synthetic_documents(50, rng, kind="candidate")
    started = time.perf_counter()
    index = LookalikeIndex.build(documents)
    built = time.perf_counter() - started
    times = []
    for q in range(queries):
        query = documents[leads + q % 50]
        started = time.perf_counter()
        index.similar(query, top=20)
        times.append(time.perf_counter() - started)
    return {"documents": len(documents), "build_seconds": built, "query_median": statistics.median(times),
            "query_worst": max(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=5, help="seed keywords (at most %d)" % len(KEYWORDS))
    parser.add_argument("--pages", type=int, default=3, help="pages per query")
    parser.add_argument("--leads", type=int, default=100_000, help="lead documents for the lookalike index")
    parser.add_argument("--queries", type=int, default=5, help="similar() calls timed")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()

    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores")
    session = search_session(min(args.keywords, len(KEYWORDS)), args.pages, args.seed)
    print(f"search session: {args.keywords} keywords x 3 platforms x users/posts x {args.pages} pages, replayed "
          f"in {session['seconds']:.1f} s ({session['failures']} failures)")
    print(f"  requests {session['requests']:.0f}, hits {session['hits']:.0f}, distinct leads {session['leads']:.0f}")
    print(f"  leads per 100 requests: {session['leads_per_100_requests']:.0f}")
    print(f"  duplicate share of hits: {session['duplicate_hit_share']:.1%}; leads seen by more than one source: "
          f"{session['multi_source_lead_share']:.1%}")
    result = lookalikes(args.leads, args.queries, args.seed)
    print(f"similar: index of {result['documents']:,} documents built in {result['build_seconds']:.1f} s; "
          f"one candidate in {result['query_median'] * 1000:.0f} ms median, {result['query_worst'] * 1000:.0f} ms worst "
          f"(target < 1000 ms)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
