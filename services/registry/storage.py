"""Registry tables and the queries its handlers need."""

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

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
    Column("created_at", DateTime(timezone=True), nullable=False),
)

identifiers = Table(
    "identifiers",
    metadata,
    Column("scheme", String(16), primary_key=True),
    Column("value", String(32), primary_key=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False),
)

convictions = Table(
    "convictions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform_id", ForeignKey("nominals.platform_id"), nullable=False),
    Column("source_event_id", String(128), nullable=False),
    Column("offence_code", String(16), nullable=False),
    Column("conviction_date", Date, nullable=False),
    Column("disposal", String(64), nullable=False),
    Column("custody_months", Integer),
    UniqueConstraint("platform_id", "source_event_id"),
)


class RegistryStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find_by_identifier(self, scheme: str, value: str) -> str | None:
        platform_id: str | None = await self._session.scalar(
            select(identifiers.c.platform_id).where(
                identifiers.c.scheme == scheme, identifiers.c.value == value
            )
        )
        return platform_id

    async def add_nominal(
        self,
        *,
        family_name: str,
        given_names: list[str],
        date_of_birth: date,
        identifiers_: dict[str, str],
    ) -> str:
        platform_id = str(uuid.uuid4())
        await self._session.execute(
            nominals.insert(),
            dict(
                platform_id=platform_id,
                family_name=family_name,
                given_names=given_names,
                date_of_birth=date_of_birth,
                created_at=datetime.now(UTC),
            ),
        )
        for scheme, value in identifiers_.items():
            await self._session.execute(
                identifiers.insert(), {"scheme": scheme, "value": value, "platform_id": platform_id}
            )
        return platform_id

    async def add_conviction(
        self,
        platform_id: str,
        *,
        source_event_id: str,
        offence_code: str,
        conviction_date: date,
        disposal: str,
        custody_months: int | None,
    ) -> None:
        await self._session.execute(
            convictions.insert(),
            dict(
                platform_id=platform_id,
                source_event_id=source_event_id,
                offence_code=offence_code,
                conviction_date=conviction_date,
                disposal=disposal,
                custody_months=custody_months,
            ),
        )

    async def category(self, platform_id: str) -> int | None:
        value: int | None = await self._session.scalar(
            select(nominals.c.category).where(nominals.c.platform_id == platform_id)
        )
        return value

    async def set_category(self, platform_id: str, category: int, reason: str) -> None:
        await self._session.execute(
            nominals.update()
            .where(nominals.c.platform_id == platform_id)
            .values(category=category, category_reason=reason)
        )
