"""the service's tables

Revision levels_0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "levels_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("levels",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_merges",
        sa.Column("merge_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("survivor", sa.String(length=64), nullable=False),
        sa.Column("absorbed", sa.String(length=64), nullable=False),
        sa.Column("survivor_level", sa.Integer(), nullable=True),
        sa.Column("survivor_status", sa.String(length=32), nullable=True),
        sa.Column("survivor_confirmed", sa.Boolean(), nullable=True),
        sa.Column("survivor_next_review_by", sa.Date(), nullable=True),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("merge_id"),
    )
    with op.batch_alter_table("case_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_merges_absorbed"), ["absorbed"], unique=False)

    op.create_table(
        "cases",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("lead_agency", sa.String(length=16), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("next_review_by", sa.Date(), nullable=True),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("rosh", sa.String(length=16), nullable=True),
        sa.Column("rosh_as_of", sa.Date(), nullable=True),
        sa.Column("accepted_referral_level", sa.Integer(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("status_before_close", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("platform_id"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_next_review_by"), ["next_review_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_release_date"), ["release_date"], unique=False)

    op.create_table(
        "level_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("previous_level", sa.Integer(), nullable=False),
        sa.Column("rationale", sa.String(length=2000), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_by_role", sa.String(length=32), nullable=False),
        sa.Column("authorised_by", sa.String(length=64), nullable=True),
        sa.Column("authorised_by_role", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("level_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_level_decisions_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("referral_ref", sa.String(length=64), nullable=False),
        sa.Column("level_sought", sa.Integer(), nullable=False),
        sa.Column("referring_agency", sa.String(length=32), nullable=False),
        sa.Column("reasons", sa.String(length=2000), nullable=False),
        sa.Column("current_rosh", sa.String(length=16), nullable=False),
        sa.Column("lower_level_insufficient", sa.String(length=2000), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("referred_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decision_reason", sa.String(length=2000), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("platform_id", "referral_ref"),
    )


def downgrade() -> None:
    op.drop_table("referrals")
    with op.batch_alter_table("level_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_level_decisions_platform_id"))

    op.drop_table("level_decisions")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_release_date"))
        batch_op.drop_index(batch_op.f("ix_cases_next_review_by"))
        batch_op.drop_index(batch_op.f("ix_cases_area"))

    op.drop_table("cases")
    with op.batch_alter_table("case_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_merges_absorbed"))

    op.drop_table("case_merges")
