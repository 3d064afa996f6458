"""What happened to a subject (a nominal, a case), line by line, each naming its cause.

A cause is the event that brought the change, a person's decision
(``merge/12``) or the schedule. Every service keeps its subjects'
history here, in its own database, and shows it through its audited API.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Integer, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import kit_metadata, stage, utc, write_staged
from eventkit.outbox import Cause

history = Table(
    "kit_history",
    kit_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("change", String(200), nullable=False),
    Column("cause_id", String(128), nullable=False, index=True),
    Column("cause_type", String(128), nullable=False),
)


@dataclass(frozen=True)
class Line:
    at: datetime
    change: str
    cause_id: str
    cause_type: str


def record(session: AsyncSession, subject: str, change: str, cause: Cause) -> None:
    """Add a line to ``subject``'s history, in the transaction that makes the change (as it commits)."""
    stage(
        session,
        history,
        dict(
            subject=subject,
            at=datetime.now(UTC),
            change=change[:200],
            cause_id=cause.id,
            cause_type=cause.type,
        ),
    )


async def lines(session: AsyncSession, subject: str, *, limit: int, offset: int) -> list[Line]:
    """``subject``'s history, oldest first, a page at a time."""
    await write_staged(session)
    rows = await session.execute(
        select(history).where(history.c.subject == subject).order_by(history.c.id).limit(limit).offset(offset)
    )
    return [
        Line(
            at=utc(row.at),
            change=row.change,
            cause_id=row.cause_id,
            cause_type=row.cause_type,
        )
        for row in rows
    ]
