"""Cross-platform identity: profile links become account references, and
``wangzi candidates suggest`` lists the linked accounts a candidate does not have yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from crawler.cli import app
from records import AccountRef
from spiders.pages.identity import account_key, linked_accounts, links_in_text, platform_of, recognize, same_account
from spiders.pages.registry import parser_for
from storage.db import session_scope, upgrade
from storage.models import Account, AccountLink, Candidate, ProfileSnapshot

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


def _ref(link: str) -> tuple[str, str | None, str | None] | None:
    found = recognize(link)
    return None if found is None else (found[0], found[1].handle, found[1].platform_user_id)


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://www.youtube.com/@miachentokyo", ("youtube", "miachentokyo", None)),
        ("youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", ("youtube", None, "UC_x5XG1OV2P6uZZ5FSM9Ttw")),
        ("https://www.instagram.com/miachen.tokyo/", ("instagram", "miachen.tokyo", None)),
        ("instagram.com/MiaChen.Tokyo", ("instagram", "miachen.tokyo", None)),
        ("https://www.tiktok.com/@nike", ("tiktok", "nike", None)),
        ("https://x.com/miachen_tokyo", ("x", "miachen_tokyo", None)),
        ("https://twitter.com/XDevelopers", ("x", "XDevelopers", None)),
        ("https://x.com/i/user/2244994945", ("x", None, "2244994945")),
        ("https://weibo.com/u/1669879400", ("weibo", None, "1669879400")),
        ("https://m.weibo.cn/profile/1669879400", ("weibo", None, "1669879400")),
        ("https://space.bilibili.com/546195", ("bilibili", None, "546195")),
        ("https://m.bilibili.com/space/546195", ("bilibili", None, "546195")),
        ("https://www.instagram.com/miachen.tokyo/reels/", ("instagram", "miachen.tokyo", None)),  # a tab of the account
        ("https://www.tiktok.com/@nike?lang=en", ("tiktok", "nike", None)),
        ("https://www.xiaohongshu.com/user/profile/5a1b2c3d4e5f60718293a4b5",
         ("xiaohongshu", None, "5a1b2c3d4e5f60718293a4b5")),
        ("https://www.douyin.com/user/MS4wLjABAAAAv7iSuuXDJGDvJkmH_vz1qkDZYo1apxgzaxdBSeIuPiM",
         ("douyin", None, "MS4wLjABAAAAv7iSuuXDJGDvJkmH_vz1qkDZYo1apxgzaxdBSeIuPiM")),
    ],
)
def test_profile_links_of_every_platform_are_recognised(link: str, expected: tuple[str, str | None, str | None]) -> None:
    assert _ref(link) == expected


@pytest.mark.parametrize(
    "link",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",  # a video, not a channel
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.instagram.com/p/C_aBcDeFgHi/",  # a post
        "https://www.xiaohongshu.com/explore/6740a1b2000000000c01d2e3",  # a note
        "https://x.com/search?q=nike",
        # Posts under their author's name: the spiders' normalize_account takes them (for
        # `candidates add`), but a bio linking one post does not claim that account.
        "https://x.com/XDevelopers/status/1851463451929186504",
        "https://twitter.com/XDevelopers/status/1851463451929186504/photo/1",
        "https://www.tiktok.com/@nike/video/7301234567890123456",
        "https://www.tiktok.com/@nike/photo/7301234567890123456",
        "https://www.instagram.com/miachen.tokyo/p/C_aBcDeFgHi/",
        "https://www.instagram.com/miachen.tokyo/reel/C_aBcDeFgHi/",
        "https://www.bilibili.com/video/BV1xx411c7mD",
        "https://t.co/AbCdEf1234",  # short link: cannot be followed offline
        "https://linktr.ee/miachen",
        "https://example.com/x.com/foo",  # the platform's name in someone else's path
        "not a link at all",
    ],
)
def test_links_that_name_no_account_are_ignored(link: str) -> None:
    assert recognize(link) is None


def test_platform_of_matches_whole_domains_only() -> None:
    assert platform_of("https://m.youtube.com/@x") == "youtube"
    assert platform_of("https://notyoutube.com/@x") is None
    assert platform_of("https://www.bilibili.com/video/BV1xx") is None  # only space.bilibili.com is a profile host


def test_links_in_bio_text_with_and_without_scheme() -> None:
    bio = ("日本好物 | IG：instagram.com/miachen.tokyo，YouTube https://www.youtube.com/@miachentokyo. "
           "mail me@x.com/ok（小红书 www.xiaohongshu.com/user/profile/5a1b2c3d4e5f60718293a4b5）")
    assert links_in_text(bio) == [
        "instagram.com/miachen.tokyo",
        "https://www.youtube.com/@miachentokyo",
        "www.xiaohongshu.com/user/profile/5a1b2c3d4e5f60718293a4b5",
    ]
    assert links_in_text(None) == [] and links_in_text("") == []


def test_linked_accounts_are_listed_once_in_the_order_found() -> None:
    found = linked_accounts(
        ["https://www.youtube.com/@miachentokyo", "https://www.instagram.com/p/C_aBcDeFgHi/", "https://x.com/miachen_tokyo"],
        "also on YouTube: youtube.com/@MiaChenTokyo and X https://twitter.com/MIACHEN_TOKYO",
    )
    assert [(p, r.handle, link) for p, r, link in found] == [
        ("youtube", "miachentokyo", "https://www.youtube.com/@miachentokyo"),
        ("x", "miachen_tokyo", "https://x.com/miachen_tokyo"),
    ]


def test_same_account_compares_handles_without_case_and_ids_exactly() -> None:
    assert same_account("x", AccountRef("x", handle="MiaChen"), "x", AccountRef("x", handle="miachen"))
    assert same_account("x", AccountRef("x", platform_user_id="1"), "x", AccountRef("x", platform_user_id="1"))
    assert not same_account("x", AccountRef("x", handle="miachen"), "instagram", AccountRef("instagram", handle="miachen"))
    assert account_key("x", AccountRef("x", handle="MiaChen")) == ("x", "handle", "miachen")


def test_links_parsed_from_instagram_and_x_profiles_name_the_other_accounts() -> None:
    """The parsers' Profile.links (what storage keeps as AccountLink rows) feed identity."""
    ig_case = FIXTURES / "instagram" / "web_profile_info_synthetic"
    meta = json.loads((ig_case / "meta.json").read_text())
    instagram = parser_for("instagram")((ig_case / "response.json").read_bytes(), meta["url"], 200)
    assert [(p, r.handle) for p, r, _ in linked_accounts(instagram.links, instagram.bio)] == [
        ("youtube", "miachentokyo"), ("x", "miachen_tokyo")]

    x_case = FIXTURES / "x" / "user_by_screen_name_current_no_legacy_synthetic"
    meta = json.loads((x_case / "meta.json").read_text())
    x = parser_for("x")((x_case / "response.json").read_bytes(), meta["url"], 200)
    assert [(p, r.handle) for p, r, _ in linked_accounts(x.links, x.bio)] == [
        ("youtube", "miachentokyo"), ("instagram", "miachen.tokyo")]


# --------------------------------------------------------------------------- candidates suggest


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(url)
    return url


def _seed(database_url: str) -> int:
    """Mia has Instagram and X accounts; her Instagram links YouTube, X (hers) and Weibo,
    her X bio links a TikTok; Bob owns the Weibo account."""
    with session_scope(database_url) as session:
        mia = Candidate(display_name="Mia Chen", aliases=["陈米娅"])
        bob = Candidate(display_name="Bob")
        session.add_all([mia, bob])
        session.flush()
        instagram = Account(candidate_id=mia.id, platform="instagram", handle="miachen.tokyo")
        x = Account(candidate_id=mia.id, platform="x", handle="MiaChen_Tokyo")
        weibo = Account(candidate_id=bob.id, platform="weibo", platform_user_id="1669879400")
        session.add_all([instagram, x, weibo])
        session.flush()
        session.add_all([
            AccountLink(account_id=instagram.id, url="https://www.youtube.com/@miachentokyo"),
            AccountLink(account_id=instagram.id, url="https://x.com/miachen_tokyo"),  # already hers
            AccountLink(account_id=instagram.id, url="https://weibo.com/u/1669879400"),
            AccountLink(account_id=instagram.id, url="https://linktr.ee/miachen"),
            AccountLink(account_id=x.id, url="https://www.youtube.com/@MiaChenTokyo"),
        ])
        session.add(ProfileSnapshot(account_id=x.id, bio="vlogs on tiktok.com/@miachen.tokyo!", followers=1,
                                    source_url="https://x.com/MiaChen_Tokyo", parser="x.user_by_screen_name",
                                    parser_version="1", payload_sha256="0" * 64))
        assert mia.id is not None
        return mia.id


def test_suggest_lists_linked_accounts_not_yet_registered(database_url: str) -> None:
    """On SQLite and, when a server can start, PostgreSQL (tests/conftest.py)."""
    mia = _seed(database_url)
    result = runner.invoke(app, ["candidates", "suggest", str(mia), "--json", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["candidate"] == {"id": mia, "display_name": "Mia Chen"}
    assert data["suggestions"] == [
        {"platform": "youtube", "handle": "miachentokyo", "platform_user_id": None,
         "linked_from": ["instagram:miachen.tokyo", "x:MiaChen_Tokyo"],
         "links": ["https://www.youtube.com/@miachentokyo", "https://www.youtube.com/@MiaChenTokyo"], "registered_to": None},
        {"platform": "weibo", "handle": None, "platform_user_id": "1669879400", "linked_from": ["instagram:miachen.tokyo"],
         "links": ["https://weibo.com/u/1669879400"], "registered_to": "candidate 2 (Bob)"},
        {"platform": "tiktok", "handle": "miachen.tokyo", "platform_user_id": None, "linked_from": ["x:MiaChen_Tokyo"],
         "links": ["tiktok.com/@miachen.tokyo"], "registered_to": None},
    ]


def test_suggest_by_name_prints_a_table_naming_the_linking_account(sqlite_url: str) -> None:
    _seed(sqlite_url)
    result = runner.invoke(app, ["candidates", "suggest", "陈米娅", "--database-url", sqlite_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "miachentokyo" in result.output and "instagram:miachen.tokyo" in result.output
    assert "already registered to candidate 2 (Bob)" in result.output
    assert "--confirm youtube:miachentokyo" in result.output


def test_confirm_registers_a_suggestion_and_it_is_no_longer_suggested(database_url: str) -> None:
    mia = _seed(database_url)
    result = runner.invoke(app, ["candidates", "suggest", "Mia Chen", "--confirm", "youtube:@MiaChenTokyo",
                                 "--database-url", database_url])
    assert result.exit_code == 0, result.output
    with session_scope(database_url) as session:
        owned = session.exec(select(Account).where(Account.candidate_id == mia, Account.platform == "youtube")).one()
        assert owned.handle == "miachentokyo"
    again = runner.invoke(app, ["candidates", "suggest", str(mia), "--json", "--database-url", database_url])
    assert [s["platform"] for s in json.loads(again.stdout)["suggestions"]] == ["weibo", "tiktok"]


def test_confirm_refuses_accounts_that_are_not_suggested_or_belong_to_someone_else(sqlite_url: str) -> None:
    mia = _seed(sqlite_url)
    for value in ("youtube:someoneelse", "weibo:1669879400", "nonsense"):
        result = runner.invoke(app, ["candidates", "suggest", str(mia), "--confirm", value, "--database-url", sqlite_url])
        assert result.exit_code == 2, (value, result.output)
    with session_scope(sqlite_url) as session:
        assert session.exec(select(Account).where(Account.candidate_id == mia)).all().__len__() == 2


def test_suggest_with_nothing_to_suggest_says_so(sqlite_url: str) -> None:
    with session_scope(sqlite_url) as session:
        session.add(Candidate(display_name="Quiet"))
    result = runner.invoke(app, ["candidates", "suggest", "Quiet", "--database-url", sqlite_url])
    assert result.exit_code == 0, result.output
    assert "no linked accounts to suggest" in result.output


def test_suggest_for_an_unknown_candidate_exits_1(sqlite_url: str) -> None:
    result = runner.invoke(app, ["candidates", "suggest", "Nobody", "--database-url", sqlite_url])
    assert result.exit_code == 1
    assert "no candidate 'Nobody'" in result.output
