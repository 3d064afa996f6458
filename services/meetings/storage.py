"""Meeting scheduling tables."""

from datetime import UTC, datetime

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import stage
from services.meetings.rules import MeetingDecision

metadata = MetaData()

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


class MeetingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(
        self, platform_id: str, level: int, decision: MeetingDecision, source_event_id: str
    ) -> None:
        # Nothing reads it back in the transaction: inserted with the batch's others as it commits.
        stage(
            self._session,
            meeting_decisions,
            dict(
                platform_id=platform_id,
                level=level,
                required=decision.required,
                reason=decision.reason,
                source_event_id=source_event_id,
                decided_at=datetime.now(UTC),
            ),
        )
