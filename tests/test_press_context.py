"""Disambiguation context for press mentions: the candidate's handles and the brands their
own posts promote (spiders.press.load_targets), and what that context does to confidence."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlmodel import select

from records import AccountRef
from enrichment.press import confirm_mention
from spiders.press import load_targets
from storage.db import session_scope, upgrade
from storage.models import Account, Post
from storage.candidates import add_candidate


def _database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


def test_brands_from_the_candidates_posts_become_context_most_mentioned_first(tmp_path: Path) -> None:
    url = _database(tmp_path)
    with session_scope(url) as session:
        candidate = add_candidate(session, "Mia Chen", accounts=[AccountRef("weibo", platform_user_id="1001", handle="miachen_tokyo")])
        account_id = session.exec(select(Account.id).where(Account.candidate_id == candidate.id)).one()
        texts = ["今天开箱雪花秀和资生堂", "雪花秀 润燥精华回购", "Sulwhasoo again!", "no brand here", None]
        for n, text in enumerate(texts):
            session.add(Post(account_id=account_id, platform="weibo", post_id=str(n), text=text,
                             published_at=datetime(2026, 11, 1 + n, tzinfo=timezone.utc)))
        candidate_id = candidate.id
    (target,) = load_targets(url, [candidate_id])
    assert target.aliases == ("Mia Chen",)
    assert target.context[0] == "miachen_tokyo"
    assert target.context[1:3] == ("雪花秀", "Sulwhasoo")  # three posts name it: first
    assert "资生堂" in target.context[3:]  # one post


def test_a_candidate_without_posts_has_only_handles_as_context(tmp_path: Path) -> None:
    url = _database(tmp_path)
    with session_scope(url) as session:
        candidate_id = add_candidate(session, "Mia Chen", accounts=[AccountRef("x", handle="miachen")]).id
    (target,) = load_targets(url, [candidate_id])
    assert target.context == ("miachen",)


def test_a_promoted_brand_in_the_article_lifts_a_plain_name_mention() -> None:
    text = "Mia Chen showed the new Sulwhasoo serum to her followers in Tokyo."
    plain = confirm_mention("Tokyo shopping notes", text, ["Mia Chen"])
    with_brand = confirm_mention("Tokyo shopping notes", text, ["Mia Chen"], context=["雪花秀", "Sulwhasoo"])
    assert plain.confirmed and with_brand.confirmed
    assert with_brand.context_terms == ("Sulwhasoo",)
    assert with_brand.confidence > plain.confidence
