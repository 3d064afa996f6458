"""Level management tables."""

from datetime import date

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.levels.rules import CaseLevel

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("platform_id", String(64), primary_key=True),
    Column("category", Integer, nullable=False),
    Column("level", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("since", Date, nullable=False),
)


class LevelStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def current(self, platform_id: str) -> CaseLevel | None:
        row = (
            await self._session.execute(
                select(cases.c.level, cases.c.status).where(cases.c.platform_id == platform_id)
            )
        ).first()
        return None if row is None else CaseLevel(level=row.level, status=row.status)

    async def open_case(self, platform_id: str, category: int, state: CaseLevel, since: date) -> None:
        await self._session.execute(
            cases.insert(),
            dict(
                platform_id=platform_id,
                category=category,
                level=state.level,
                status=state.status,
                since=since,
            ),
        )

    async def set_category(self, platform_id: str, category: int) -> None:
        await self._session.execute(
            cases.update().where(cases.c.platform_id == platform_id).values(category=category)
        )
