"""foundation: candidates, accounts, runs, snapshots, posts, failures

Revision ID: 0001_foundation
Revises: 
Create Date: 2026-11-25 07:08:16.718682
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0001_foundation'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_candidate_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidate_display_name'), ['display_name'], unique=False)

    op.create_table('crawlrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('crawlrun', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crawlrun_started_at'), ['started_at'], unique=False)

    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('handle', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('platform_user_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('profile_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'handle', name='uq_account_platform_handle'),
    sa.UniqueConstraint('platform', 'platform_user_id', name='uq_account_platform_user_id')
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_platform'), ['platform'], unique=False)

    op.create_table('accountlink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'url', name='uq_accountlink_url')
    )
    with op.batch_alter_table('accountlink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accountlink_account_id'), ['account_id'], unique=False)

    op.create_table('fetchfailure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawlrun.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('fetchfailure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fetchfailure_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetchfailure_crawl_run_id'), ['crawl_run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetchfailure_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetchfailure_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetchfailure_platform'), ['platform'], unique=False)

    op.create_table('post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('post_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('first_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'post_id', name='uq_post_platform_post_id')
    )
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_published_at'), ['published_at'], unique=False)

    op.create_table('profilesnapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('captured_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('followers', sa.Integer(), nullable=True),
    sa.Column('following', sa.Integer(), nullable=True),
    sa.Column('posts', sa.Integer(), nullable=True),
    sa.Column('likes', sa.Integer(), nullable=True),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('verified_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('bio', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ip_location', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
    sa.Column('approximate', sa.JSON(), nullable=False),
    sa.Column('lower_bound', sa.JSON(), nullable=False),
    sa.Column('source_url', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('parser', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('parser_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('payload_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], ),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawlrun.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'crawl_run_id', 'payload_sha256', name='uq_snapshot_run_payload')
    )
    with op.batch_alter_table('profilesnapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profilesnapshot_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_profilesnapshot_captured_at'), ['captured_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_profilesnapshot_crawl_run_id'), ['crawl_run_id'], unique=False)

    op.create_table('postsnapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('crawl_run_id', sa.Integer(), nullable=True),
    sa.Column('captured_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=True),
    sa.Column('comments', sa.Integer(), nullable=True),
    sa.Column('shares', sa.Integer(), nullable=True),
    sa.Column('views', sa.Integer(), nullable=True),
    sa.Column('approximate', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['crawl_run_id'], ['crawlrun.id'], ),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('post_id', 'crawl_run_id', name='uq_postsnapshot_run')
    )
    with op.batch_alter_table('postsnapshot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_postsnapshot_post_id'), ['post_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('postsnapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_postsnapshot_post_id'))

    op.drop_table('postsnapshot')
    with op.batch_alter_table('profilesnapshot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profilesnapshot_crawl_run_id'))
        batch_op.drop_index(batch_op.f('ix_profilesnapshot_captured_at'))
        batch_op.drop_index(batch_op.f('ix_profilesnapshot_account_id'))

    op.drop_table('profilesnapshot')
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_post_published_at'))
        batch_op.drop_index(batch_op.f('ix_post_account_id'))

    op.drop_table('post')
    with op.batch_alter_table('fetchfailure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fetchfailure_platform'))
        batch_op.drop_index(batch_op.f('ix_fetchfailure_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_fetchfailure_kind'))
        batch_op.drop_index(batch_op.f('ix_fetchfailure_crawl_run_id'))
        batch_op.drop_index(batch_op.f('ix_fetchfailure_account_id'))

    op.drop_table('fetchfailure')
    with op.batch_alter_table('accountlink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accountlink_account_id'))

    op.drop_table('accountlink')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_platform'))
        batch_op.drop_index(batch_op.f('ix_account_candidate_id'))

    op.drop_table('account')
    with op.batch_alter_table('crawlrun', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crawlrun_started_at'))

    op.drop_table('crawlrun')
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_display_name'))
        batch_op.drop_index(batch_op.f('ix_candidate_active'))

    op.drop_table('candidate')
