"""Inbox: the events a consumer has already applied, so a redelivery changes nothing.

A claim is written in the same transaction as the handler's state change;
if that transaction rolls back, so does the claim.
"""

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import insert_if_new, kit_metadata

inbox = Table(
    "kit_inbox",
    kit_metadata,
    Column("consumer", String(64), primary_key=True),
    Column("source", String(256), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)


async def claim(session: AsyncSession, *, consumer: str, source: str, event_id: str, event_type: str) -> bool:
    """Record the event as applied; False if this consumer applied it before.

    One statement: the insert does nothing when the key is there already.
    Two racing claims cannot both commit: the second waits on the first's
    key and then inserts nothing.
    """
    claimed = await session.execute(
        insert_if_new(session, inbox),
        dict(
            consumer=consumer,
            source=source,
            event_id=event_id,
            event_type=event_type,
            processed_at=datetime.now(UTC),
        ),
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]
