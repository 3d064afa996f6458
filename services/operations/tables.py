"""The dashboard's read model: cases, meetings, actions and notifications as the topics tell them,
and the dead letters with what operators decided about them.

Each column is set from one topic only, so the model ends up the same
whatever order the topics are read in (a rebuild reads them interleaved).
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    false,
)

metadata = MetaData()

cases = Table(
    "ops_cases",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    # From the register: where the case is managed, its category, registration deadlines passed.
    Column("area", String(8)),
    Column("category", Integer),
    Column("registration_overdue_since", Date),
    # From levels: whether it is a MAPPA case, its level, review and release screening.
    Column("in_mappa", Boolean, nullable=False, server_default=false()),
    Column("level", Integer),
    Column("review_by", Date),
    Column("review_stage", String(8)),  # "due" or "overdue", until the next level decision
    Column("release_screening_by", Date),
    Index("ix_ops_cases_area", "area", "in_mappa"),
)

meetings = Table(
    "ops_meetings",
    metadata,
    Column("meeting_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # required, overdue, scheduled, held, cancelled
    Column("required_by", Date),
    Column("minutes_overdue", Boolean, nullable=False, server_default=false()),
)

actions = Table(
    "ops_actions",
    metadata,
    Column("action_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),  # open, overdue, completed
    Column("due_on", Date, nullable=False),
)

notices = Table(
    "ops_notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("urgent", Boolean, nullable=False, server_default=false()),
    Column("failed", Boolean, nullable=False, server_default=false()),
    Column("acknowledged", Boolean, nullable=False, server_default=false()),
)

# One row per dead-lettered message: its headers (from the dead-letter topic) and the operator's
# decision (from operations.deadletters.v1); never the message itself, which stays in Kafka.
dead_letters = Table(
    "ops_dead_letters",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("original_topic", String(255)),
    Column("original_partition", Integer),
    Column("original_offset", BigInteger),
    Column("consumer", String(64)),
    Column("error_class", String(128)),
    Column("error_message", String(1000)),
    Column("attempts", Integer),
    Column("event_type", String(128)),
    Column("event_id", String(128)),
    Column("dead_lettered_at", DateTime(timezone=True)),
    Column("decision", String(16)),  # None while open; "replayed" or "discarded"
    Column("decided_by", String(128)),
    Column("decided_at", DateTime(timezone=True)),
    Column("reason", String(300)),
    Index("ix_ops_dead_letters_open", "decision", "topic"),
)
