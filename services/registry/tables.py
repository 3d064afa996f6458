"""The registry's tables: the register lives only in the registry's own database.

Events carry platform ids; reads over HTTP are audited.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

metadata = MetaData()

nominals = Table(
    "nominals",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("family_name", String(100), nullable=False),
    Column("given_names", JSON, nullable=False),
    Column("date_of_birth", Date, nullable=False),
    Column("category", Integer),
    Column("category_reason", String(300)),
    Column("custody_status", String(32), nullable=False, default="in-community"),
    Column("release_date", Date),
    Column("released_on", Date),
    Column("on_licence", Boolean, nullable=False, default=False),
    Column("hospital_order", String(32)),
    # not-mappa (no category ever), active (a category), exited, merged
    Column("mappa_status", String(16), nullable=False, default="not-mappa"),
    Column("merged_into", String(64)),
    Column("lead_agency", String(16)),
    Column("offender_manager_ref", String(64)),
    Column("offender_manager_team", String(16)),
    Column("rosh", String(16)),
    # The MAPPA area managing the case (police force area code): need-to-know keys on it.
    Column("area", String(8), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

risk_assessments = Table(
    "risk_assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("completed_on", Date, nullable=False),
    Column("tool", String(16), nullable=False),
    Column("rosh", String(16), nullable=False),
    Column("assessor_agency", String(32), nullable=False),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("scheme", String(16), primary_key=True),
    Column("value", String(32), primary_key=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
)

convictions = Table(
    "convictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("source_event_id", String(128), nullable=False),
    Column("offence_code", String(16), nullable=False),
    Column("conviction_date", Date, nullable=False),
    Column("disposal", String(64), nullable=False),
    Column("custody_months", Integer),
    Column("caution", Boolean, nullable=False, default=False),
    Column("schedule_3", Boolean, nullable=False),
    Column("schedule_15", Boolean, nullable=False),
    Column("murder", Boolean, nullable=False),
    UniqueConstraint("platform_id", "source_event_id"),
)

requirements = Table(
    "notification_requirements",
    metadata,
    Column("platform_id", ForeignKey("nominals.platform_id"), primary_key=True),
    Column("relevant_date", Date, nullable=False),
    Column("period_months", Integer),  # NULL: indefinite
    Column("under_18", Boolean, nullable=False),
    Column("basis", String(200), nullable=False),
    Column("initial_notified_on", Date),
    Column("last_notified_on", Date),
    Column("no_fixed_abode", Boolean, nullable=False, default=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("family_name", String(100), nullable=False),
    Column("given_names", JSON, nullable=False),
    Column("until", Date, nullable=False),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("notified_on", Date, nullable=False),
    Column("line1", String(100)),
    Column("town", String(60)),
    Column("postcode", String(8)),
    Column("no_fixed_abode", Boolean, nullable=False),
)

foreign_travel = Table(
    "foreign_travel",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("notified_on", Date, nullable=False),
    Column("departure_date", Date, nullable=False),
    Column("return_date", Date),
    Column("destination_country", String(2), nullable=False),
    Column("notified_in_time", Boolean, nullable=False),
)

# Deadlines missed (SOA 2003 s.91): kept after the person is detained or notifies late.
breaches = Table(
    "breaches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False, index=True),
    Column("notification", String(16), nullable=False),
    Column("deadline", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("platform_id", "notification", "deadline"),
)

# The date each kind of fact on the nominal was last set as of. Agencies' topics are not
# ordered with each other, so an older fact arriving later must not overwrite a newer one.
fact_dates = Table(
    "fact_dates",
    metadata,
    Column("platform_id", ForeignKey("nominals.platform_id"), primary_key=True),
    Column("fact", String(32), primary_key=True),
    Column("as_of", Date, nullable=False),
)

resolution_cases = Table(
    "resolution_cases",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(64), nullable=False),
    Column("platform_ids", JSON, nullable=False),
    Column("event_id", String(128), nullable=False, index=True),
    Column("event_type", String(128), nullable=False),
    # The held event, applied once it is known whom it is about.
    Column("event", JSON, nullable=False),
    # The identifiers it claims, as "scheme:value", to find it when a nominal gains one.
    Column("claimed", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
    # A co-ordinator's decision: the nominal the event is about, or none (dismissed).
    Column("decided_nominal", String(64)),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decision_note", String(200)),
)


merges = Table(
    "merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survivor", ForeignKey("nominals.platform_id"), nullable=False),
    Column("absorbed", ForeignKey("nominals.platform_id"), nullable=False),
    # What moved, row by row, so that an unmerge moves exactly that back.
    Column("moved", JSON, nullable=False),
    Column("decided_by", String(64), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
)

# The person-owned rows a merge moves from the absorbed nominal to the survivor.
MOVABLE = {
    "convictions": convictions,
    "risk_assessments": risk_assessments,
    "addresses": addresses,
    "aliases": aliases,
    "foreign_travel": foreign_travel,
    "breaches": breaches,
}
