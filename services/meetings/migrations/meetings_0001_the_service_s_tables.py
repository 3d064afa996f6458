"""the service's tables

Revision meetings_0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "meetings_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("meetings",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_cases",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("next_review_by", sa.Date(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("platform_id"),
    )
    with op.batch_alter_table("meeting_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_cases_area"), ["area"], unique=False)

    op.create_table(
        "meeting_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("source_event_id", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("meeting_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_decisions_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("required_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("venue", sa.String(length=300), nullable=True),
        sa.Column("video_link", sa.String(length=2100), nullable=True),
        sa.Column("chair_ref", sa.String(length=64), nullable=True),
        sa.Column("chair_role", sa.String(length=32), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("meeting_id"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meetings_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_required_by"), ["required_by"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_starts_at"), ["starts_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_meetings_status"), ["status"], unique=False)
        batch_op.create_index(
            "ux_meetings_one_pending",
            ["platform_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('required', 'scheduled')"),
            postgresql_where=sa.text("status IN ('required', 'scheduled')"),
        )

    op.create_table(
        "meeting_actions",
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("pillar", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("owner_agency", sa.String(length=32), nullable=False),
        sa.Column("owner_staff_ref", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.meeting_id"],
        ),
        sa.PrimaryKeyConstraint("action_id"),
    )
    with op.batch_alter_table("meeting_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_actions_due_on"), ["due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_actions_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_actions_owner_agency"), ["owner_agency"], unique=False)
        batch_op.create_index(batch_op.f("ix_meeting_actions_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "meeting_attendees",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("core", sa.Boolean(), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.meeting_id"],
        ),
        sa.PrimaryKeyConstraint("meeting_id", "agency"),
    )
    with op.batch_alter_table("meeting_attendees", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_attendees_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "meeting_minutes",
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("attendance", sa.JSON(), nullable=False),
        sa.Column("confidentiality_statement_read", sa.Boolean(), nullable=False),
        sa.Column("victim_liaison_officer_present", sa.Boolean(), nullable=False),
        sa.Column("victim_views", sa.Text(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("differing_views", sa.Text(), nullable=True),
        sa.Column("level_decided", sa.Integer(), nullable=False),
        sa.Column("level_refused", sa.String(length=300), nullable=True),
        sa.Column("level_rationale", sa.Text(), nullable=False),
        sa.Column("authorised_by", sa.String(length=64), nullable=True),
        sa.Column("authorised_by_role", sa.String(length=32), nullable=True),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("disclosure_considered", sa.Boolean(), nullable=False),
        sa.Column("disclosure_decision", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.meeting_id"],
        ),
        sa.PrimaryKeyConstraint("meeting_id"),
    )


def downgrade() -> None:
    op.drop_table("meeting_minutes")
    with op.batch_alter_table("meeting_attendees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_attendees_platform_id"))

    op.drop_table("meeting_attendees")
    with op.batch_alter_table("meeting_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_actions_platform_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_actions_owner_agency"))
        batch_op.drop_index(batch_op.f("ix_meeting_actions_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_meeting_actions_due_on"))

    op.drop_table("meeting_actions")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_meetings_one_pending",
            sqlite_where=sa.text("status IN ('required', 'scheduled')"),
            postgresql_where=sa.text("status IN ('required', 'scheduled')"),
        )
        batch_op.drop_index(batch_op.f("ix_meetings_status"))
        batch_op.drop_index(batch_op.f("ix_meetings_starts_at"))
        batch_op.drop_index(batch_op.f("ix_meetings_required_by"))
        batch_op.drop_index(batch_op.f("ix_meetings_platform_id"))

    op.drop_table("meetings")
    with op.batch_alter_table("meeting_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_decisions_platform_id"))

    op.drop_table("meeting_decisions")
    with op.batch_alter_table("meeting_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_cases_area"))

    op.drop_table("meeting_cases")
