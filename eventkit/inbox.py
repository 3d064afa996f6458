"""Inbox: the events a consumer has already applied, so a redelivery changes nothing.

Claims are written in the same transaction as the handlers' state changes;
if that transaction rolls back, so do the claims. They are kept for a
retention period longer than the broker keeps messages (Kafka's default is
7 days), after which no redelivery can come, and then forgotten
(``retention``), so the table does not grow for ever.
"""

import functools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Insert, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import insert_if_new, kit_metadata
from eventkit.outbox import Emitter
from eventkit.scheduler import Job
from schemas.envelope import CloudEvent

log = logging.getLogger(__name__)

inbox = Table(
    "kit_inbox",
    kit_metadata,
    Column("consumer", String(64), primary_key=True),
    Column("source", String(256), primary_key=True),
    Column("event_id", String(128), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
)


def _claiming(session: AsyncSession) -> Insert:
    return _returning_keys(insert_if_new(session, inbox))


@functools.cache  # built once per dialect, not per batch
def _returning_keys(insert: Insert) -> Insert:
    return insert.returning(inbox.c.source, inbox.c.event_id)


async def claim(session: AsyncSession, consumer: str, events: Sequence[CloudEvent]) -> set[tuple[str, str]]:
    """Record the events as applied by ``consumer``; returns the (source, id) of those it had not applied.

    One statement for them all: the insert skips keys that are there
    already and returns the keys it inserted. Two racing claims of one key
    cannot both commit: the second waits on the first's key and then inserts
    nothing.
    """
    at = datetime.now(UTC)
    rows = {
        (event.source, event.id): dict(
            consumer=consumer, source=event.source, event_id=event.id, event_type=event.type, processed_at=at
        )
        for event in events
    }
    claimed = await session.execute(_claiming(session), list(rows.values()))
    return {(source, event_id) for source, event_id in claimed}


async def forget_before(session: AsyncSession, before: datetime) -> int:
    """Forget the claims made before ``before``; returns how many."""
    forgotten: Any = await session.execute(inbox.delete().where(inbox.c.processed_at < before))
    return int(forgotten.rowcount)


def retention(days: float) -> Job:
    """A scheduler job forgetting claims older than ``days``: run it on the wall clock, not a domain clock."""
    keep = timedelta(days=days)

    async def forget_old_claims(work: Emitter, now: datetime) -> None:
        if forgotten := await forget_before(work.session, now - keep):
            log.info("inbox: forgot %d claims older than %s", forgotten, keep)

    return forget_old_claims
