"""What level management writes, and the case facts its decisions rest on."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.levels.policy import LeadAgency
from services.levels.rules import CaseLevel, ReferralStatus
from services.levels.tables import cases, decisions, referrals


@dataclass(frozen=True)
class Case:
    platform_id: str
    category: int
    area: str | None
    lead_agency: LeadAgency | None
    level: CaseLevel
    confirmed: bool
    since: date
    next_review_by: date | None
    release_date: date | None
    rosh: str | None
    rosh_as_of: date | None
    accepted_referral_level: int | None
    status_before_close: str | None


def _case(row: Any) -> Case:
    return Case(
        platform_id=row.platform_id,
        category=row.category,
        area=row.area,
        lead_agency=row.lead_agency,
        level=CaseLevel(level=row.level, status=row.status),
        confirmed=row.confirmed,
        since=row.since,
        next_review_by=row.next_review_by,
        release_date=row.release_date,
        rosh=row.rosh,
        rosh_as_of=row.rosh_as_of,
        accepted_referral_level=row.accepted_referral_level,
        status_before_close=row.status_before_close,
    )


class LevelStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def case(self, platform_id: str) -> Case | None:
        row = (await self._session.execute(select(cases).where(cases.c.platform_id == platform_id))).first()
        return None if row is None else _case(row)

    async def open_cases(self, *, in_area: str | None = None) -> list[Case]:
        """Cases not closed, in every area or in ``in_area`` only."""
        query = select(cases).where(cases.c.status != "closed").order_by(cases.c.platform_id)
        if in_area is not None:
            query = query.where(cases.c.area == in_area)
        rows = await self._session.execute(query)
        return [_case(row) for row in rows]

    async def open_case(
        self, platform_id: str, *, category: int, area: str | None, level: CaseLevel, since: date
    ) -> None:
        """Open a case, or reopen a closed one, pending screening."""
        values: dict[str, Any] = dict(
            category=category,
            area=area,
            level=level.level,
            status=level.status,
            confirmed=False,
            since=since,
            next_review_by=None,
            accepted_referral_level=None,
            closed_on=None,
        )
        reopened: Any = await self._session.execute(
            cases.update().where(cases.c.platform_id == platform_id).values(**values)
        )
        if reopened.rowcount == 0:
            await self._session.execute(cases.insert(), dict(platform_id=platform_id, **values))

    async def take_over(self, absorbed: str, survivor: str) -> None:
        """The survivor takes the absorbed record's case; a closed one of its own is replaced."""
        row = (await self._session.execute(select(cases).where(cases.c.platform_id == absorbed))).one()
        await self._session.execute(cases.delete().where(cases.c.platform_id == survivor))
        await self._session.execute(cases.insert(), {**row._mapping, "platform_id": survivor})

    async def update(self, platform_id: str, **values: Any) -> None:
        await self._session.execute(cases.update().where(cases.c.platform_id == platform_id).values(**values))

    async def add_referral(self, platform_id: str, referral_ref: str, **values: Any) -> bool:
        """Record an open referral; False if this reference is on record already."""
        if await self.referral_status(platform_id, referral_ref) is not None:
            return False
        await self._session.execute(
            referrals.insert(),
            dict(platform_id=platform_id, referral_ref=referral_ref, status="open", **values),
        )
        return True

    async def referral_status(self, platform_id: str, referral_ref: str) -> ReferralStatus | None:
        status: ReferralStatus | None = await self._session.scalar(
            select(referrals.c.status).where(
                referrals.c.platform_id == platform_id, referrals.c.referral_ref == referral_ref
            )
        )
        return status

    async def referral_level(self, platform_id: str, referral_ref: str) -> int:
        found = await self._session.execute(
            select(referrals.c.level_sought).where(
                referrals.c.platform_id == platform_id, referrals.c.referral_ref == referral_ref
            )
        )
        level: int = found.scalar_one()
        return level

    async def decide_referral(
        self, platform_id: str, referral_ref: str, *, status: ReferralStatus, **values: Any
    ) -> bool:
        """Close an open referral; False if it was decided meanwhile."""
        decided: Any = await self._session.execute(
            referrals.update()
            .where(
                referrals.c.platform_id == platform_id,
                referrals.c.referral_ref == referral_ref,
                referrals.c.status == "open",
            )
            .values(status=status, **values)
        )
        return bool(decided.rowcount == 1)

    async def retire_referrals(
        self, platform_id: str, *, to: ReferralStatus, status: ReferralStatus, up_to_level: int = 3
    ) -> None:
        """Referrals in ``status`` seeking ``up_to_level`` or less now have status ``to``."""
        await self._session.execute(
            referrals.update()
            .where(
                referrals.c.platform_id == platform_id,
                referrals.c.status == status,
                referrals.c.level_sought <= up_to_level,
            )
            .values(status=to)
        )

    async def add_decision(self, platform_id: str, **values: Any) -> None:
        await self._session.execute(decisions.insert(), dict(platform_id=platform_id, **values))
