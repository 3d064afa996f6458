"""What the levels API reads: a case's decisions and referrals, and an area's open referrals."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.levels.tables import cases, decisions, referrals


class LevelReads:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def decisions(self, platform_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(decisions).where(decisions.c.platform_id == platform_id).order_by(decisions.c.id)
        )
        return [dict(row._mapping) for row in rows]

    async def referrals(self, platform_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(referrals)
            .where(referrals.c.platform_id == platform_id)
            .order_by(referrals.c.referred_on, referrals.c.referral_ref)
        )
        return [dict(row._mapping) for row in rows]

    async def open_referrals(self, area: str) -> list[dict[str, Any]]:
        """Referrals awaiting the co-ordinator's decision, on the area's open cases, oldest first."""
        rows = await self._session.execute(
            select(referrals)
            .join(cases, cases.c.platform_id == referrals.c.platform_id)
            .where(referrals.c.status == "open", cases.c.area == area, cases.c.status != "closed")
            .order_by(referrals.c.referred_on, referrals.c.platform_id, referrals.c.referral_ref)
        )
        return [dict(row._mapping) for row in rows]
