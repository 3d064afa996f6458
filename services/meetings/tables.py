"""Meeting tables: cases as levels publishes them, meetings, attendees, minutes and actions."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# What meetings knows of a case: its area (from the register) and level (from levels).
cases = Table(
    "meeting_cases",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("area", String(8), index=True),
    Column("level", Integer),
    # The review date levels last published: a meeting whose level decision levels refused leaves
    # the case at its level, due for review by then.
    Column("next_review_by", Date),
    Column("closed", Boolean, nullable=False, default=False),
)

# The level 1 answer the skeleton gave: no meeting needed.
meeting_decisions = Table(
    "meeting_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("required", Boolean, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("source_event_id", String(128), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)

meetings = Table(
    "meetings",
    metadata,
    Column("meeting_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("level", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("required_by", Date, nullable=False, index=True),
    # required (not yet scheduled), scheduled, held (minutes recorded), cancelled
    Column("status", String(16), nullable=False, index=True),
    Column("starts_at", DateTime(timezone=True), index=True),
    Column("ends_at", DateTime(timezone=True)),
    Column("venue", String(300)),
    Column("video_link", String(2100)),
    Column("chair_ref", String(64)),
    Column("chair_role", String(32)),
    # The iCalendar SEQUENCE: raised on every change of a scheduled meeting.
    Column("sequence", Integer, nullable=False, default=0),
    Column("cancel_reason", String(32)),
    # At most one meeting pending per case, whatever steps run at once.
    Index(
        "ux_meetings_one_pending",
        "platform_id",
        unique=True,
        sqlite_where=text("status IN ('required', 'scheduled')"),
        postgresql_where=text("status IN ('required', 'scheduled')"),
    ),
)

# Agencies asked to a meeting: the Responsible Authority as core, Duty-to-Co-operate agencies invited.
attendees = Table(
    "meeting_attendees",
    metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id"), primary_key=True),
    Column("agency", String(32), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("core", Boolean, nullable=False),
    Column("invited_on", Date, nullable=False),
    # When the invitation ended (uninvited, meeting cancelled, case lowered or closed).
    Column("ended_on", Date),
)

# Form MAPPA C: who came, what was decided and why, the risk management plan.
minutes = Table(
    "meeting_minutes",
    metadata,
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id"), primary_key=True),
    Column("held_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("attendance", JSON, nullable=False),
    Column("confidentiality_statement_read", Boolean, nullable=False),
    Column("victim_liaison_officer_present", Boolean, nullable=False),
    Column("victim_views", Text),
    Column("summary", Text, nullable=False),
    Column("decisions", JSON, nullable=False),
    Column("differing_views", Text),
    Column("level_decided", Integer, nullable=False),
    # Why levels could not apply the level decided (the case kept its level), once it says so.
    Column("level_refused", String(300)),
    Column("level_rationale", Text, nullable=False),
    Column("authorised_by", String(64)),
    Column("authorised_by_role", String(32)),
    Column("plan", JSON, nullable=False),
    Column("disclosure_considered", Boolean, nullable=False),
    Column("disclosure_decision", Text),
)

actions = Table(
    "meeting_actions",
    metadata,
    Column("action_id", String(64), primary_key=True),
    Column("meeting_id", String(64), ForeignKey("meetings.meeting_id"), nullable=False, index=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("pillar", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("rationale", Text, nullable=False),
    Column("owner_agency", String(32), nullable=False, index=True),
    Column("owner_staff_ref", String(64), nullable=False),
    Column("due_on", Date, nullable=False, index=True),
    Column("completed_on", Date),
)
