"""Kept post text analyses (storage/post_analyses.py, enrichment.stage.analyse_kept): a kept
analysis is what analysing the text again gives; one made by another analyser, or of another
text, is never used; enrich computes the same features with or without them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

TEXTS = [
    "今天分享雅诗兰黛的新品，海淘回来的 #广告",
    "Trying SK-II for the first time, a quick haul from Tokyo #ad",
    "去日本溯源资生堂的工厂，探厂vlog来啦 品牌合作",
    "東京でDysonを買いました #PR",
    "Werbung | Mein Morgen mit La Mer und Aesop #Werbung",
    "광고 오늘은 Swisse 비타민 후기",
    "日常vlog：周末在家做饭",
    "",
    "ok",
    "#pub Ma routine avec Clarins, achetée à Paris",
]


def _posts(session: Any, texts: list[str] = TEXTS, title: str | None = None) -> tuple[int, list[Any]]:
    from storage.models import Account, Candidate, Post, PostSnapshot

    candidate = Candidate(display_name="Poster")
    session.add(candidate)
    session.flush()
    account = Account(candidate_id=candidate.id, platform="weibo", handle=f"poster-{candidate.id}")
    session.add(account)
    session.flush()
    posts = []
    for i, text in enumerate(texts):
        post = Post(account_id=account.id, platform="weibo", post_id=f"{account.id}-{i}", title=title,
                    text=text, published_at=NOW - timedelta(days=i + 1), first_seen_at=NOW - timedelta(days=i))
        session.add(post)
        posts.append(post)
    session.flush()
    for i, post in enumerate(posts):
        session.add(PostSnapshot(post_id=post.id, captured_at=NOW - timedelta(hours=i), likes=10 * i, comments=i, shares=None))
    session.flush()
    return candidate.id, posts


def _rows(session: Any) -> list[Any]:
    from sqlmodel import select

    from enrichment.features import PostRow
    from storage.feature_inputs import posts_with_counts
    from storage.models import Account

    accounts = [a.id for a in session.exec(select(Account))]
    _, points = posts_with_counts(session, accounts, NOW)
    return [PostRow(account_id=p.account_id, platform=p.platform, published_at=p.published_at, text=p.text,
                    title=p.title, likes=p.likes, comments=p.comments, shares=p.shares, views=p.views,
                    first_seen_at=p.first_seen_at, url=p.url, post_id=p.post_id, id=p.id) for p in points]


def _kept(session: Any) -> dict[int, tuple[str, str, str, datetime]]:
    from sqlmodel import select

    from storage.models import PostTextAnalysis

    return {r.post_id: (r.analyser, r.text_digest, r.analysis, r.analysed_at) for r in session.exec(select(PostTextAnalysis))}


def _by_post(posts: list[Any], analyses: dict[int, Any]) -> dict[int, Any]:
    return {post.id: analyses[id(post)] for post in posts}


def test_a_kept_analysis_is_what_analysing_the_text_again_gives(database_url: str) -> None:
    from enrichment.features import analyse_posts
    from enrichment.stage import analyse_kept
    from storage.db import session_scope

    with session_scope(database_url) as session:
        _posts(session)
        posts = _rows(session)
        fresh = _by_post(posts, analyse_posts(posts))
        first = _by_post(posts, analyse_kept(session, posts))
        assert first == fresh
        kept = _kept(session)
        assert set(kept) == {p.id for p in posts}
    with session_scope(database_url) as session:
        posts = _rows(session)  # new objects: the analyses come from the kept rows
        again = _by_post(posts, analyse_kept(session, posts))
        assert again == fresh
        assert _kept(session) == kept  # read, not written again
    # What the features read from them: sponsored posts in five languages, brands, places.
    assert {label for a in fresh.values() for label in a.disclosures} >= {"zh:#广告", "en:#ad", "ja:#PR", "de:#werbung"}
    assert any(a.brands for a in fresh.values()) and any(a.foreign_places for a in fresh.values())


def test_an_analysis_by_another_analyser_or_of_another_text_is_made_again(database_url: str) -> None:
    from sqlalchemy import update

    from enrichment.features import analyse_posts
    from enrichment.features.content import analyser_fingerprint, text_digest
    from enrichment.stage import analyse_kept
    from storage.db import session_scope
    from storage.models import Post, PostTextAnalysis

    with session_scope(database_url) as session:
        _, stored = _posts(session)
        analyse_kept(session, _rows(session))
        other, edited = stored[0].id, stored[1].id
        # One row made by an older analyser (with a wrong analysis, as an old version's would be),
        # one post whose text was edited by hand after it was analysed.
        session.execute(update(PostTextAnalysis).where(PostTextAnalysis.post_id == other)
                        .values(analyser="0" * 16, analysis='[null,[],[],[],["xx:#bogus"]]'))
        session.execute(update(Post).where(Post.id == edited).values(text="今天用了兰蔻 #广告"))
    with session_scope(database_url) as session:
        posts = _rows(session)
        analyses = _by_post(posts, analyse_kept(session, posts))
        assert analyses == _by_post(posts, analyse_posts(posts))
        assert [b.name for b in analyses[edited].brands] == ["Lancôme"]
        assert "xx:#bogus" not in analyses[other].disclosures
        kept = _kept(session)
        assert kept[other][0] == analyser_fingerprint()
        assert kept[edited][1] == text_digest("今天用了兰蔻 #广告")


def test_posts_not_stored_are_analysed_and_not_kept(database_url: str) -> None:
    from enrichment.features import PostRow, analyse_posts
    from enrichment.stage import analyse_kept
    from storage.db import session_scope

    posts = [PostRow(account_id=1, platform="weibo", published_at=NOW, text=text) for text in TEXTS]
    with session_scope(database_url) as session:
        assert _by_post(posts, analyse_kept(session, posts)) == _by_post(posts, analyse_posts(posts))
        assert _kept(session) == {}


def test_the_text_form_keeps_every_part_of_an_analysis() -> None:
    from enrichment.brands import default_brands
    from enrichment.features import PostAnalysis
    from enrichment.features.content import AnalysisDecoder, encode_analysis

    brands = default_brands().brands
    nameless_country = next(b for b in brands if b.country is None) if any(b.country is None for b in brands) else brands[0]
    cases = [
        PostAnalysis(None, frozenset(), frozenset(), frozenset()),
        PostAnalysis("zh", frozenset({"shopping", "trends"}), frozenset({brands[0], brands[-1], nameless_country}),
                     frozenset({"JP", "FR"}), ("zh:#广告", "zh:品牌合作")),
        PostAnalysis("fr", frozenset({"sourcing"}), frozenset(), frozenset({"FR"}), ("fr:#pub",)),
    ]
    decode = AnalysisDecoder()
    for analysis in cases:
        text = encode_analysis(analysis)
        assert decode(text) == analysis
        assert decode(text) is decode(text)  # one object per distinct text form
        assert encode_analysis(decode(text)) == text


def test_sponsored_features_read_the_disclosures_the_analysis_found() -> None:
    from enrichment.disclosures import default_disclosures
    from enrichment.features import PostRow, analyse_posts
    from enrichment.features.sponsored import sponsored_features

    posts = [PostRow(account_id=1, platform="weibo", published_at=NOW - timedelta(days=i + 1), text=text, likes=i)
             for i, text in enumerate(TEXTS)]
    analyses = analyse_posts(posts)
    from_analysis = sponsored_features(posts, analyses, NOW)
    from_finder = sponsored_features(posts, analyses, NOW, finder=default_disclosures())
    assert from_analysis == from_finder
    assert from_analysis["sponsored_posts"] == 6  # zh, en, zh, ja, de, fr; the Korean line is not a disclosure


def test_enrich_computes_the_same_features_with_kept_analyses_as_without(database_url: str) -> None:
    from sqlalchemy import delete

    from enrichment.stage import enrich
    from storage.db import session_scope
    from storage.features import latest_feature_snapshot
    from storage.models import PostTextAnalysis

    with session_scope(database_url) as session:
        candidate_id, _ = _posts(session, title="开箱")
    documents = []
    for clear in (False, False, True):
        with session_scope(database_url) as session:
            if clear:
                session.execute(delete(PostTextAnalysis))
            enrich(session, as_of=NOW, force=True)
            documents.append(latest_feature_snapshot(session, candidate_id).features)
            assert len(_kept(session)) == len(TEXTS)
    assert documents[0] == documents[1] == documents[2]
    assert documents[0]["sponsored_posts"] >= 6 and documents[0]["brands_distinct"] >= 5


@pytest.mark.parametrize("count", [0, 1, 70_000])
def test_among_ids_takes_any_number_of_ids_as_one_parameter(database_url: str, count: int) -> None:
    from sqlalchemy import select

    from storage.db import among_ids, session_scope
    from storage.models import Candidate

    with session_scope(database_url) as session:
        first = Candidate(display_name="a")
        second = Candidate(display_name="b")
        session.add_all([first, second])
        session.flush()
        ids = [first.id, *range(10**6, 10**6 + count - 1)] if count else []
        found = session.execute(select(Candidate.id).where(among_ids(session, Candidate.id, ids))).scalars().all()
        assert found == ([first.id] if count else [])


def test_the_analyser_fingerprint_changes_with_a_dictionary(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from enrichment.features import content

    content.analyser_fingerprint.cache_clear()
    shipped = content.analyser_fingerprint()
    edited = tmp_path / "brands.csv"
    edited.write_text(content.BRANDS_FILE.read_text(encoding="utf-8") + "Newbrand,新品牌,Newbrand,FR,cosmetics\n",
                      encoding="utf-8")
    monkeypatch.setattr(content, "BRANDS_FILE", edited)
    content.analyser_fingerprint.cache_clear()
    try:
        assert content.analyser_fingerprint() != shipped
    finally:
        monkeypatch.undo()
        content.analyser_fingerprint.cache_clear()
    assert content.analyser_fingerprint() == shipped
