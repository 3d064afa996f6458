"""the service's tables

Revision registry_0001, the first; written 2026-12-03.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "registry_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("registry",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nominals",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.JSON(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=True),
        sa.Column("category_reason", sa.String(length=300), nullable=True),
        sa.Column("custody_status", sa.String(length=32), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("released_on", sa.Date(), nullable=True),
        sa.Column("on_licence", sa.Boolean(), nullable=False),
        sa.Column("hospital_order", sa.String(length=32), nullable=True),
        sa.Column("mappa_status", sa.String(length=16), nullable=False),
        sa.Column("merged_into", sa.String(length=64), nullable=True),
        sa.Column("lead_agency", sa.String(length=16), nullable=True),
        sa.Column("offender_manager_ref", sa.String(length=64), nullable=True),
        sa.Column("offender_manager_team", sa.String(length=16), nullable=True),
        sa.Column("rosh", sa.String(length=16), nullable=True),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform_id"),
    )
    with op.batch_alter_table("nominals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nominals_area"), ["area"], unique=False)

    op.create_table(
        "resolution_cases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("platform_ids", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("claimed", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_nominal", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("resolution_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resolution_cases_event_id"), ["event_id"], unique=False)

    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("line1", sa.String(length=100), nullable=True),
        sa.Column("town", sa.String(length=60), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("no_fixed_abode", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addresses_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "aliases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_names", sa.JSON(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aliases_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "breaches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("notification", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "notification", "deadline"),
    )
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_breaches_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "convictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("source_event_id", sa.String(length=128), nullable=False),
        sa.Column("offence_code", sa.String(length=16), nullable=False),
        sa.Column("conviction_date", sa.Date(), nullable=False),
        sa.Column("disposal", sa.String(length=64), nullable=False),
        sa.Column("custody_months", sa.Integer(), nullable=True),
        sa.Column("caution", sa.Boolean(), nullable=False),
        sa.Column("schedule_3", sa.Boolean(), nullable=False),
        sa.Column("schedule_15", sa.Boolean(), nullable=False),
        sa.Column("murder", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "source_event_id"),
    )
    with op.batch_alter_table("convictions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_convictions_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "fact_dates",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("fact", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("platform_id", "fact"),
    )
    op.create_table(
        "foreign_travel",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("notified_on", sa.Date(), nullable=False),
        sa.Column("departure_date", sa.Date(), nullable=False),
        sa.Column("return_date", sa.Date(), nullable=True),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("notified_in_time", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("foreign_travel", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_foreign_travel_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "identifiers",
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("scheme", "value"),
    )
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identifiers_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "merges",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survivor", sa.String(length=64), nullable=False),
        sa.Column("absorbed", sa.String(length=64), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["absorbed"],
            ["nominals.platform_id"],
        ),
        sa.ForeignKeyConstraint(
            ["survivor"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notification_requirements",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("relevant_date", sa.Date(), nullable=False),
        sa.Column("period_months", sa.Integer(), nullable=True),
        sa.Column("under_18", sa.Boolean(), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("initial_notified_on", sa.Date(), nullable=True),
        sa.Column("last_notified_on", sa.Date(), nullable=True),
        sa.Column("no_fixed_abode", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("platform_id"),
    )
    op.create_table(
        "risk_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("tool", sa.String(length=16), nullable=False),
        sa.Column("rosh", sa.String(length=16), nullable=False),
        sa.Column("assessor_agency", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["nominals.platform_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risk_assessments_platform_id"), ["platform_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risk_assessments_platform_id"))

    op.drop_table("risk_assessments")
    op.drop_table("notification_requirements")
    op.drop_table("merges")
    with op.batch_alter_table("identifiers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identifiers_platform_id"))

    op.drop_table("identifiers")
    with op.batch_alter_table("foreign_travel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_foreign_travel_platform_id"))

    op.drop_table("foreign_travel")
    op.drop_table("fact_dates")
    with op.batch_alter_table("convictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_convictions_platform_id"))

    op.drop_table("convictions")
    with op.batch_alter_table("breaches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_breaches_platform_id"))

    op.drop_table("breaches")
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aliases_platform_id"))

    op.drop_table("aliases")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addresses_platform_id"))

    op.drop_table("addresses")
    with op.batch_alter_table("resolution_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resolution_cases_event_id"))

    op.drop_table("resolution_cases")
    with op.batch_alter_table("nominals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nominals_area"))

    op.drop_table("nominals")
