"""A small cohort for the review desk's tests: candidates with follower histories (one with a
hole of ten days, which the chart must show as a gap), posts, press mentions, failures, and
names, bios, post texts and article titles that are XSS attempts - everything a platform
could send - then ``enrich``; and discovery's leads for the Leads tab (``seed_leads``).
Written through storage's models and the enrichment stage, as a crawl would leave it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlmodel import select

from enrichment.stage import enrich
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.models import Account, CrawlRun, FetchFailure, Post, PostSnapshot, PressMention, ProfileSnapshot
from storage.names import alias_search_keys, search_key

SCRIPT_NAME = "<script>alert(1)</script>"
IMG_NAME = '"><img src=x onerror=alert(1)>'
FORMULA_BIO = "=HYPERLINK(\"http://evil.test\",\"x\")"

#: (name, aliases, platform -> (followers at the start, daily gain), ip location, history gap)
PEOPLE = [
    ("老番茄", ["Lao Fanqie"], {"bilibili": (18_000_000, 4_000), "weibo": (3_000_000, 500)}, "上海", False),
    ("Lena在纽约", ["Lena in New York"], {"xiaohongshu": (420_000, 900)}, "美国", True),
    ("Mia在洛杉矶", ["Mia in LA"], {"weibo": (250_000, 300), "instagram": (80_000, 150)}, "美国", False),
    ("東京のユキ", ["Yuki Tokyo"], {"youtube": (1_200_000, 1_000), "x": (300_000, 200)}, None, False),
    ("Paris Chen", ["陈巴黎"], {"xiaohongshu": (60_000, 50), "instagram": (40_000, 40)}, "法国", False),
    ("首尔小金", ["Seoul Kim"], {"douyin": (900_000, 2_000)}, "韩国", False),
    ("悉尼Amy", [], {"weibo": (35_000, 20)}, "澳大利亚", False),
    ("Berlin Bo", ["柏林波"], {"bilibili": (12_000, 10), "youtube": (9_000, 5)}, "德国", False),
    (SCRIPT_NAME, ["xss one"], {"bilibili": (50_000, 100)}, "广东", False),
    (IMG_NAME, ["xss two"], {"weibo": (70_000, 60)}, "美国", False),
    ("伦敦Leo", ["London Leo"], {"tiktok": (500_000, 700)}, "英国", False),
    ("米兰Sofia", [], {"instagram": (150_000, 80)}, "意大利", False),
]
DAYS = 40


def seed_desk(database_url: str, *, now: datetime | None = None) -> dict[str, int]:
    """The cohort above in ``database_url``; returns candidate ids by name."""
    now = now or datetime.now(timezone.utc)
    ids: dict[str, int] = {}
    with session_scope(database_url) as session:
        run = CrawlRun(trigger="manual", status="finished", started_at=now - timedelta(days=DAYS), finished_at=now)
        session.add(run)
        session.flush()
        for number, (name, aliases, platforms, ip, gap) in enumerate(PEOPLE, start=1):
            candidate = add_candidate(session, name, aliases=aliases, notes=f"seeded for the desk tests ({number})")
            assert candidate.name_key == search_key(name) and candidate.alias_keys == alias_search_keys(aliases)
            ids[name] = int(candidate.id)  # type: ignore[arg-type]
            for platform, (start, gain) in platforms.items():
                account = Account(candidate_id=candidate.id, platform=platform, handle=f"h{number}{platform}",
                                  profile_url=f"https://example.test/{platform}/{number}")
                session.add(account)
                session.flush()
                bio = {SCRIPT_NAME: f"bio {SCRIPT_NAME}", IMG_NAME: FORMULA_BIO}.get(name, f"{name} 的主页 · haul 海淘")
                for day in range(DAYS, 0, -1):
                    if gap and 12 <= day < 22:
                        continue  # ten days nobody could read the profile: a gap, not a line
                    at = now - timedelta(days=day, hours=number)
                    followers = start + gain * (DAYS - day)
                    session.add(ProfileSnapshot(
                        account_id=account.id, crawl_run_id=run.id, captured_at=at, display_name=name, followers=followers,
                        bio=bio, ip_location=ip if platform in {"weibo", "xiaohongshu", "douyin", "bilibili"} else None,
                        source_url=f"https://example.test/{platform}/{number}", parser=f"{platform}.seed", parser_version="1",
                        payload_sha256=hashlib.sha256(f"{number}:{platform}:{day}".encode()).hexdigest()))
                for k in range(3):
                    text = {SCRIPT_NAME: f"post {SCRIPT_NAME}", IMG_NAME: f"post {IMG_NAME}"}.get(
                        name, ["今天开箱 Dyson 和 SK-II，海淘回来的", "Trying Aesop in Tokyo, a quick haul", "日常vlog"][k])
                    post = Post(account_id=account.id, platform=platform, post_id=f"{number}-{platform}-{k}",
                                url=f"https://example.test/{platform}/{number}/p{k}",
                                published_at=now - timedelta(days=3 + 5 * k), title=None, text=text)
                    session.add(post)
                    session.flush()
                    session.add(PostSnapshot(post_id=post.id, crawl_run_id=run.id, captured_at=now - timedelta(days=1),
                                             likes=1000 * (k + 1), comments=50 * (k + 1), shares=10, views=20_000))
            if number <= 4 or name in (SCRIPT_NAME, IMG_NAME):
                title = {SCRIPT_NAME: f"Article {SCRIPT_NAME}", IMG_NAME: f"Article {IMG_NAME}"}.get(name, f"{aliases[0] if aliases else name}, the creator shoppers follow")
                session.add(PressMention(
                    candidate_id=candidate.id, source="gdelt", url=f"https://news.example.com/{number}",
                    canonical_url=f"https://news.example.com/{number}", outlet_domain="news.example.com",
                    outlet_name="Example News", country="US", language="en", published_at=now - timedelta(days=20 + number),
                    title=title, matched_alias=aliases[0] if aliases else name, confidence=0.8, status="confirmed"))
            if number == 2:
                account_id = session.exec(select(Account.id).where(Account.candidate_id == candidate.id)).first()
                session.add(FetchFailure(crawl_run_id=run.id, account_id=account_id, platform="xiaohongshu", kind="captcha",
                                         url="https://www.xiaohongshu.com/user/profile/x", detail="captcha page",
                                         occurred_at=now - timedelta(days=15)))
    with session_scope(database_url) as session:
        enrich(session, as_of=now)
    return ids


#: Leads for the desk's Leads tab: (display name, platform, id, handle, followers, ip location,
#: country, brands, score, source, query, hop, post url, days since last seen). A name and a post
#: link that are XSS attempts; a lead whose answer showed no follower count.
LEAD_SCRIPT_NAME = "<script>alert('lead')</script>"
LEAD_IMG_NAME = '"><img src=x onerror=alert(2)>'
LEAD_SCRIPT_URL = "javascript:alert(3)"
LEADS = [
    ("Mika在东京", "weibo", "7200000001", None, 420_000, "日本", "JP", ["Shiseido", "SK-II"], 0.81,
     "weibo_search.users", "海淘", 0, None, 1),
    ("Amy海外好物", "bilibili", "7200000002", None, 88_000, "美国", "US", ["Dyson"], 0.62,
     "bilibili_search.posts", "海外好物", 0, "https://www.bilibili.com/video/BV1xx411c7mD", 2),
    ("No count yet", "youtube", "UC" + "n" * 22, "nocount", None, None, None, [], 0.30,
     "graph.mention", None, 1, "https://www.youtube.com/watch?v=v1", 3),
    (LEAD_SCRIPT_NAME, "weibo", "7200000004", None, 12_000, "法国", "FR", [], 0.40,
     "weibo_search.posts", "开箱", 0, LEAD_SCRIPT_URL, 4),
    (LEAD_IMG_NAME, "xiaohongshu", "5f00000000000000000000a5", "imgx", 5_000, "韩国", "KR", ["Innisfree"], 0.35,
     "xiaohongshu_search.users", "代购", 0, None, 5),
    ("Shop not creator", "weibo", "7200000006", None, 300_000, "美国", "US", [], 0.55,
     "weibo_search.users", "代购", 0, None, 6),
]


def seed_leads(database_url: str, *, now: datetime | None = None) -> dict[str, int]:
    """The leads above, recorded as discovery records them (``storage.leads.record_lead``);
    returns lead ids by display name."""
    from records.leads import Hit, LeadItem
    from storage.leads import record_lead, set_score

    now = now or datetime.now(timezone.utc)
    ids: dict[str, int] = {}
    with session_scope(database_url) as session:
        for (name, platform, uid, handle, followers, ip, country, brands, score, source, query, hop, post_url,
             days) in LEADS:
            hit = Hit(platform=platform, platform_user_id=uid, handle=handle, display_name=name, followers=followers,
                      ip_location=ip, country=country, post_url=post_url, bio=f"{name} bio", text=f"{name} 的开箱")
            item = LeadItem(hit=hit, seed_kind="creator" if hop else "keyword", seed=query or "Mia Chen",
                            source=source, query=query, hop=hop,
                            via_account="youtube:UC" + "m" * 22 if hop else None, found_at=now - timedelta(days=days))
            _, lead = record_lead(session, item, brands=brands)
            assert lead is not None
            set_score(session, lead, score)
            ids[name] = int(lead.id)  # type: ignore[arg-type]
    return ids
