"""Lookalikes on a hand-made cohort where the answer is known: a Tokyo drugstore-haul creator's
neighbours are the other Japan beauty creators (a candidate and a lead), then the Paris one;
the gamers come last or not at all; every result says why."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from crawler.cli import app
from crawler.pipelines.leads import write_lead_items
from enrichment.similarity import Document, LookalikeIndex
from records import AccountRef, Post, PostsItem, Profile, ProfileItem, Provenance
from records.leads import Hit, LeadItem
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.leads import find_lead, mark_rejected
from storage.writer import write_items

runner = CliRunner()

#: name, platform, id, bio, IP location, posts
COHORT = [
    ("Aya Tokyo", "bilibili", "101", "坐标东京，日本药妆开箱", "日本",
     ["东京药妆店扫货 SK-II 神仙水 资生堂红腰子 开箱", "日本免税店攻略 Shiseido 免税价"]),
    ("Ken Osaka", "weibo", "7200000001", "大阪生活 日本好物", "日本", ["大阪药妆 开箱 资生堂 免税 扫货"]),
    ("Lena Paris", "weibo", "7200000002", "巴黎生活 法国好物", "法国", ["巴黎老佛爷 兰蔻 开箱 退税"]),
    ("Gamer Wu", "bilibili", "102", "原神 游戏直播", "北京", ["原神 新角色 抽卡 攻略"]),
]
LEADS = [
    Hit(platform="weibo", platform_user_id="7300000001", display_name="Mika在东京", bio="坐标东京｜日本好物 开箱 代购避坑",
        text="东京药妆店扫货 SK-II 神仙水 资生堂", ip_location="日本", country="JP", followers=125000),
    Hit(platform="youtube", platform_user_id="UC" + "s" * 22, display_name="Seoul Beauty", bio="K-beauty unboxing haul Myeongdong",
        country="KR"),
    Hit(platform="bilibili", platform_user_id="103", display_name="原神攻略站", text="原神 深渊 攻略 抽卡"),
    Hit(platform="weibo", platform_user_id="7300000002", display_name="东京药妆代购小号", text="东京药妆店扫货 SK-II 资生堂",
        ip_location="日本"),
]


def _cohort(database_url: str) -> dict[str, int]:
    ids: dict[str, int] = {}
    with session_scope(database_url) as session:
        for name, platform, uid, bio, place, posts in COHORT:
            candidate = add_candidate(session, name, accounts=[AccountRef(platform=platform, platform_user_id=uid)])
            ids[name] = candidate.id  # type: ignore[assignment]
            account = candidate.accounts[0]
            ref = AccountRef(platform=platform, platform_user_id=uid, account_id=account.id)
            provenance = Provenance.of(f"https://example.invalid/{uid}", f"{platform}.test", "1", uid.encode())
            write_items(session, [
                ProfileItem(account=ref, profile=Profile(platform=platform, platform_user_id=uid, display_name=name, bio=bio,
                                                         ip_location=place), provenance=provenance),
                PostsItem(account=ref, posts=tuple(Post(platform=platform, post_id=f"{uid}-{i}", text=text)
                                                   for i, text in enumerate(posts)), provenance=provenance),
            ], None)
        write_lead_items(session, [LeadItem(hit=hit, seed_kind="keyword", seed="开箱", source="test.search", query="开箱")
                                   for hit in LEADS], None)
        mark_rejected(session, find_lead(session, "weibo", "7300000002", None), "a shop", "tester")  # type: ignore[arg-type]
    return ids


def test_similar_ranks_the_known_neighbours_first_and_says_why(database_url: str) -> None:
    ids = _cohort(database_url)
    result = runner.invoke(app, ["similar", str(ids["Aya Tokyo"]), "--top", "4", "--json"],
                           env={"DATABASE_URL": database_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["candidate"]["brands"] == ["SK-II", "Shiseido"] and answer["candidate"]["countries"] == ["JP"]
    names = [m["name"] for m in answer["matches"]]
    assert names[:2] == ["Mika在东京", "Ken Osaka"]
    assert names[2] == "Lena Paris"
    assert "原神攻略站" not in names[:3] and "Gamer Wu" not in names[:3]
    assert "东京药妆代购小号" not in names  # a rejected lead is never proposed
    mika = answer["matches"][0]
    assert mika["kind"] == "lead" and mika["shared_brands"] == ["SK-II", "Shiseido"] and mika["shared_countries"] == ["JP"]
    assert any("药妆" in term for term in mika["shared_terms"])
    assert "brands SK-II, Shiseido" in mika["why"] and "countries JP" in mika["why"]
    assert answer["index"]["documents"] == 7  # 4 candidates and 3 new leads


def test_similar_leads_only_and_a_candidate_with_nothing_stored(database_url: str) -> None:
    ids = _cohort(database_url)
    leads_only = runner.invoke(app, ["similar", "Aya Tokyo", "--only", "leads", "--json"], env={"DATABASE_URL": database_url})
    assert {m["kind"] for m in json.loads(leads_only.output)["matches"]} == {"lead"}
    with session_scope(database_url) as session:
        empty = add_candidate(session, "Nobody Yet").id
    result = runner.invoke(app, ["similar", str(empty)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 1 and "wangzi lookup" in result.output
    assert ids


def test_rare_brands_weigh_more_than_common_ones() -> None:
    common = frozenset({"Lancôme"})
    docs = [Document("lead", i, f"L{i}", brands=common) for i in range(8)]
    docs += [Document("lead", 100, "rare", brands=frozenset({"Omorovicza"})),
             Document("lead", 101, "rare+common", brands=frozenset({"Omorovicza", "Lancôme"}))]
    index = LookalikeIndex.build(docs)
    query = Document("candidate", 1, "Q", brands=frozenset({"Omorovicza", "Lancôme"}))
    first = index.similar(query, top=2)
    assert [m.document.name for m in first] == ["rare+common", "rare"]
    assert first[1].brands > 0.5  # sharing the rare brand alone is most of the weighted overlap
    assert first[0].shared_brands == ["Omorovicza", "Lancôme"]  # rarest first
