"""the kit's tables

Revision kit_0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "kit_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("kit",)
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


def downgrade() -> None:
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
