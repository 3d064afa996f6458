"""the service's tables

Revision operations_0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "operations_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("operations",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ops_actions",
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("action_id"),
    )
    with op.batch_alter_table("ops_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_actions_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "ops_cases",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("category", sa.Integer(), nullable=True),
        sa.Column("registration_overdue_since", sa.Date(), nullable=True),
        sa.Column("in_mappa", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("review_stage", sa.String(length=8), nullable=True),
        sa.Column("release_screening_by", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("platform_id"),
    )
    with op.batch_alter_table("ops_cases", schema=None) as batch_op:
        batch_op.create_index("ix_ops_cases_area", ["area", "in_mappa"], unique=False)

    op.create_table(
        "ops_dead_letters",
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("original_topic", sa.String(length=255), nullable=True),
        sa.Column("original_partition", sa.Integer(), nullable=True),
        sa.Column("original_offset", sa.BigInteger(), nullable=True),
        sa.Column("consumer", sa.String(length=64), nullable=True),
        sa.Column("error_class", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.String(length=1000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=True),
        sa.Column("event_type", sa.String(length=128), nullable=True),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("topic", "partition", "offset"),
    )
    with op.batch_alter_table("ops_dead_letters", schema=None) as batch_op:
        batch_op.create_index("ix_ops_dead_letters_open", ["decision", "topic"], unique=False)

    op.create_table(
        "ops_meetings",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("required_by", sa.Date(), nullable=True),
        sa.Column("minutes_overdue", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    with op.batch_alter_table("ops_meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_meetings_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "ops_notifications",
        sa.Column("notification_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("urgent", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("failed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    with op.batch_alter_table("ops_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ops_notifications_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ops_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_notifications_platform_id"))

    op.drop_table("ops_notifications")
    with op.batch_alter_table("ops_meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_meetings_platform_id"))

    op.drop_table("ops_meetings")
    with op.batch_alter_table("ops_dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_dead_letters_open")

    op.drop_table("ops_dead_letters")
    with op.batch_alter_table("ops_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_ops_cases_area")

    op.drop_table("ops_cases")
    with op.batch_alter_table("ops_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ops_actions_platform_id"))

    op.drop_table("ops_actions")
