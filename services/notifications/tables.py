"""Notification tables: cases and meetings as the platform publishes them, the directory, and deliveries."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

metadata = MetaData()

# What notifications knows of a case, from the register: where it is managed and by whom.
cases = Table(
    "notify_cases",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("area", String(8)),
    Column("lead_agency", String(32)),
    Column("offender_manager", String(64)),
    # Whether events wait in notify_waiting for the case's area: placing a case reads them only then.
    Column("waiting", Boolean, nullable=False, default=False, server_default=false()),
)

# Events about a case whose area the register has not said yet (it says so on another topic, or just
# after): routed once it does, or after the policy's wait to the co-ordinators of cases in no area.
waiting = Table(
    "notify_waiting",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("event_type", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("cause_id", String(160), nullable=False),
    Column("traceparent", String(64)),
    Column("tracestate", String(512)),
    Column("since", DateTime(timezone=True), nullable=False, index=True),
)

# A meeting's chair role and invited agencies, from its last invitation: for its cancellation and minutes.
meetings = Table(
    "notify_meetings",
    metadata,
    Column("meeting_id", String(64), primary_key=True),
    Column("chair_role", String(32), nullable=False),
    Column("agencies", JSON, nullable=False),
)

# The directory: who is told, by which channels. A person (staff_ref) or a role's shared entry.
recipients = Table(
    "recipients",
    metadata,
    Column("recipient_id", String(64), primary_key=True),
    Column("area", String(8), nullable=False),
    Column("role", String(32), nullable=False),
    Column("agency", String(32)),
    Column("staff_ref", String(64), unique=True),
    # Channels besides the inbox, in the recipient's order: "email", "webhook".
    Column("channels", JSON, nullable=False),
    Column("email", String(254)),
    Column("webhook_url", String(2000)),
    # An endpoint that answered 410 Gone is disabled until an operator sets its URL again.
    Column("webhook_disabled", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    # operator, or offender-manager-allocated (an agency event made it)
    Column("source", String(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_recipients_area_role", "area", "role"),
)

# One row: counts changes to the directory, so that a process may keep lookups while it stays the same.
directory_version = Table(
    "directory_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)

# Secrets per webhook endpoint (Standard Webhooks ``whsec_``): several sign at once while one is rotated.
webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("recipient_id", String(64), nullable=False, index=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("retires_at", DateTime(timezone=True)),
)

# One notification per (cause, recipient, kind): its id is made from the three, so a redelivered
# cause finds it there already.
notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("area", String(8), index=True),
    Column("kind", String(64), nullable=False),
    Column("cause_id", String(160), nullable=False),
    Column("recipient_id", String(64)),
    Column("role", String(32), nullable=False),
    Column("agency", String(32)),
    Column("staff_ref", String(64), index=True),
    Column("redirected", String(32)),
    Column("intended_role", String(32)),
    Column("urgent", Boolean, nullable=False),
    Column("subject", String(300), nullable=False),
    Column("action", String(400), nullable=False),
    Column("due", String(64)),
    Column("ics", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("escalate_at", DateTime(timezone=True), index=True),
    Column("escalate_to", String(32)),
    Column("escalated_from", String(64)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("acknowledged_by", String(128)),
    # The cause's trace context: status events published later travel on the agency event's trace.
    Column("traceparent", String(64)),
    Column("tracestate", String(512)),
)

# Each channel of a notification: queued, then sent (email), delivered (webhook, inbox) or failed.
deliveries = Table(
    "deliveries",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("channel", String(8), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # When a queued delivery may next be tried; a sender holds it a while by moving this on.
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("error", String(64)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
)

# Every attempt, as it ended.
attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("notification_id", String(64), nullable=False, index=True),
    Column("channel", String(8), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("error", String(64)),
)
