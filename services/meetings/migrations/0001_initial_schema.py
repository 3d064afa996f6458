"""initial schema

Revision 0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_reads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=128), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint('length("user") > 0', name="ck_audit_reads_user"),
        sa.CheckConstraint("length(purpose) BETWEEN 1 AND 200", name="ck_audit_reads_purpose"),
        sa.CheckConstraint("length(record_type) > 0 AND length(record_id) > 0", name="ck_audit_reads_record"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_reads", schema=None) as batch_op:
        batch_op.create_index("ix_audit_reads_record", ["record_type", "record_id", "at"], unique=False)

    op.create_table(
        "kit_health_probe",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kit_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=200), nullable=False),
        sa.Column("cause_id", sa.String(length=128), nullable=False),
        sa.Column("cause_type", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kit_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kit_history_cause_id"), ["cause_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kit_history_subject"), ["subject"], unique=False)

    op.create_table(
        "kit_inbox",
        sa.Column("consumer", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=256), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "source", "event_id"),
    )
    with op.batch_alter_table("kit_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kit_inbox_processed_at"), ["processed_at"], unique=False)

    op.create_table(
        "kit_invitations",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("meeting_id", sa.String(length=64), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("platform_id", "meeting_id", "agency"),
    )
    op.create_table(
        "kit_outbox",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("traceparent", sa.String(length=64), nullable=True),
        sa.Column("tracestate", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kit_schedule_marks",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "key"),
    )
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
    op.drop_table("kit_schedule_marks")
    op.drop_table("kit_outbox")
    op.drop_table("kit_invitations")
    with op.batch_alter_table("kit_inbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kit_inbox_processed_at"))

    op.drop_table("kit_inbox")
    with op.batch_alter_table("kit_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kit_history_subject"))
        batch_op.drop_index(batch_op.f("ix_kit_history_cause_id"))

    op.drop_table("kit_history")
    op.drop_table("kit_health_probe")
    with op.batch_alter_table("audit_reads", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_reads_record")

    op.drop_table("audit_reads")
