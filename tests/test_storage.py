"""Storage: migrations match the models, snapshots are append-only and idempotent, failures
are failures, and nothing is stored as 0 that was not read."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel, select

from records import AccountRef, Failure, FailureItem, FailureKind, Post, PostsItem, Profile, ProfileItem, Provenance
from storage.db import get_engine, import_models, session_scope
from storage.models import Account, AccountLink, FetchFailure, PostSnapshot, ProfileSnapshot
from storage.candidates import DuplicateAccount, add_candidate
from storage.runs import start_run
from storage.writer import write_items


def test_migrations_create_exactly_the_tables_the_models_declare(database_url: str) -> None:
    import_models()
    with get_engine(database_url).connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_the_schema_check_reads_the_revisions_alembic_reads_without_importing_alembic(database_url: str) -> None:
    # Every command checks the schema on its first session; importing alembic to do it was
    # ~0.25 s of each command's start. The revisions read without it must be alembic's own.
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, current_revision, head_revision

    with get_engine(database_url).connect() as connection:
        assert current_revision(database_url) == MigrationContext.configure(connection).get_current_revision()
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    checked = subprocess.run(
        [sys.executable, "-c", "import sys; from storage.db import ensure_schema, session_scope\n"
         f"with session_scope({database_url!r}) as session: pass\n"
         "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))"],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "[]"


def test_a_database_without_a_version_table_is_at_no_revision(tmp_path: Path) -> None:
    from storage.db import current_revision

    assert current_revision(f"sqlite:///{tmp_path / 'empty.db'}") is None


def test_a_database_behind_the_code_is_refused_with_what_to_run_and_an_empty_one_is_migrated(tmp_path: Path) -> None:
    from storage.db import SchemaOutOfDate, current_revision, head_revision, upgrade

    behind = f"sqlite:///{tmp_path / 'behind.db'}"
    upgrade(behind, "0022_post_text_analysis")
    with pytest.raises(SchemaOutOfDate, match=r"'0022_post_text_analysis', the code needs '.+': run `wangzi db upgrade`"):
        with session_scope(behind):
            pass
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with session_scope(empty):
        pass
    assert current_revision(empty) == head_revision()


def _profile_item(followers: int | None = 100, payload: bytes = b"{}", **extra: object) -> ProfileItem:
    profile = Profile(platform="bilibili", platform_user_id="2", display_name="碧诗", followers=followers, **extra)
    return ProfileItem(
        account=AccountRef(platform="bilibili", platform_user_id="2"),
        profile=profile,
        provenance=Provenance.of("https://api.bilibili.com/x/web-interface/card?mid=2", "bilibili.card", "1", payload, 200),
    )


def test_storing_the_same_item_twice_in_a_run_writes_one_snapshot(database_url: str) -> None:
    with session_scope(database_url) as session:
        run = start_run(session, "manual")
        assert write_items(session, [_profile_item()], run.id)["snapshots"] == 1
        assert write_items(session, [_profile_item()], run.id)["snapshots"] == 0
        other = start_run(session, "manual")
        assert write_items(session, [_profile_item()], other.id)["snapshots"] == 1
    with session_scope(database_url) as session:
        rows = session.exec(select(ProfileSnapshot)).all()
        assert len(rows) == 2
        assert {r.payload_sha256 for r in rows} == {_profile_item().provenance.payload_sha256}
        assert rows[0].source_url.startswith("https://api.bilibili.com") and rows[0].parser == "bilibili.card"


def test_values_not_read_are_stored_as_null(database_url: str) -> None:
    with session_scope(database_url) as session:
        run = start_run(session, "manual")
        write_items(session, [_profile_item(followers=None, following=5)], run.id)
    with session_scope(database_url) as session:
        row = session.exec(select(ProfileSnapshot)).one()
        assert row.followers is None and row.posts is None and row.likes is None and row.following == 5


def test_a_failure_is_stored_as_a_failure_and_never_as_a_snapshot(database_url: str) -> None:
    item = FailureItem(
        account=AccountRef(platform="bilibili", platform_user_id="2"),
        failure=Failure(FailureKind.BLOCKED, "code -412: request blocked", 412),
        url="https://api.bilibili.com/x/web-interface/card?mid=2",
    )
    with session_scope(database_url) as session:
        run = start_run(session, "manual")
        assert write_items(session, [item, item], run.id) == {"failure:blocked": 1}
    with session_scope(database_url) as session:
        assert session.exec(select(ProfileSnapshot)).all() == []
        (failure,) = session.exec(select(FetchFailure)).all()
        assert (failure.kind, failure.http_status, failure.platform) == ("blocked", 412, "bilibili")


def test_posts_are_unique_per_platform_and_their_counts_are_snapshotted(database_url: str) -> None:
    post = Post(platform="weibo", post_id="123", text="今天去了免税店", likes=10, comments=None,
                published_at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    item = PostsItem(account=AccountRef(platform="weibo", platform_user_id="1"), posts=(post,),
                     provenance=Provenance.of("https://m.weibo.cn/x", "weibo.posts", "1", b"[]"))
    with session_scope(database_url) as session:
        first, second = start_run(session, "manual"), start_run(session, "manual")
        write_items(session, [item, item], first.id)
        write_items(session, [item], second.id)
    with session_scope(database_url) as session:
        snaps = session.exec(select(PostSnapshot)).all()
        assert len(snaps) == 2 and all(s.likes == 10 and s.comments is None for s in snaps)


def test_profile_links_are_recorded_once_per_account(database_url: str) -> None:
    item = _profile_item(links=("https://www.youtube.com/@x", "https://www.youtube.com/@x"))
    with session_scope(database_url) as session:
        run = start_run(session, "manual")
        write_items(session, [item, item], run.id)
    with session_scope(database_url) as session:
        assert [l.url for l in session.exec(select(AccountLink)).all()] == ["https://www.youtube.com/@x"]


def test_an_account_belongs_to_one_candidate(database_url: str) -> None:
    with session_scope(database_url) as session:
        add_candidate(session, "A", accounts=[AccountRef(platform="bilibili", platform_user_id="2")])
    with pytest.raises(DuplicateAccount, match="already belongs"):
        with session_scope(database_url) as session:
            add_candidate(session, "B", accounts=[AccountRef(platform="bilibili", platform_user_id="2")])
    with session_scope(database_url) as session:
        assert len(session.exec(select(Account)).all()) == 1
