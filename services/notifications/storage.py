"""Notification tables."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, MetaData, String, Table
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import stage
from services.notifications.rules import Notice

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(64), primary_key=True),
    Column("platform_id", String(64), nullable=False, index=True),
    Column("recipient_role", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("action", String(300), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source_event_id", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class NotificationStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record(self, platform_id: str, notice: Notice, source_event_id: str) -> str:
        notification_id = str(uuid.uuid4())
        # Nothing reads it back in the transaction: inserted with the batch's others as it commits.
        stage(
            self._session,
            notifications,
            dict(
                notification_id=notification_id,
                platform_id=platform_id,
                recipient_role=notice.recipient_role,
                subject=notice.subject,
                action=notice.action,
                status="recorded",
                source_event_id=source_event_id,
                created_at=datetime.now(UTC),
            ),
        )
        return notification_id
