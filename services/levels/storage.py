"""What level management writes, and the case facts its decisions rest on."""

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import hold, upsert
from services.levels.policy import LeadAgency
from services.levels.rules import CaseLevel, ReferralStatus
from services.levels.tables import cases, decisions, merges, referrals


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


class ReferralState(NamedTuple):
    status: ReferralStatus
    level_sought: int


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


# The statements of the event path, built once (building one per call costs more than running it).
# A cases update sets the columns its parameters name.
_PID: BindParameter[str] = bindparam("pid")
_CASE = select(cases).where(cases.c.platform_id == _PID)
_UPDATE_CASE = cases.update().where(cases.c.platform_id == _PID)
_SURVIVOR = select(merges.c.survivor).where(merges.c.absorbed == _PID, merges.c.undone.is_(False))


class LevelStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def take_turns(self, *platform_ids: str) -> None:
        """Wait for any other replica's transaction about these cases and keep them to the end of this
        one (sorted, so no two wait on each other): one case's steps apply one after another."""
        await hold(self._session, *(f"case {platform_id}" for platform_id in sorted(set(platform_ids))))

    async def case(self, platform_id: str, *, to_change: bool = True) -> Case | None:
        """The case; to change it, taken from any other replica's transaction first (``take_turns``)."""
        if to_change:
            await self.take_turns(platform_id)
        row = (await self._session.execute(_CASE, {"pid": platform_id})).first()
        return None if row is None else _case(row)

    async def open_cases(self, *, in_area: str | None = None) -> list[Case]:
        """Cases not closed, in every area or in ``in_area`` only."""
        query = select(cases).where(cases.c.status != "closed").order_by(cases.c.platform_id)
        if in_area is not None:
            query = query.where(cases.c.area == in_area)
        rows = await self._session.execute(query)
        return [_case(row) for row in rows]

    async def reviews_by(self, last: date) -> list[Case]:
        """Cases not closed whose next review is due by ``last`` (those overdue included)."""
        rows = await self._session.execute(
            select(cases)
            .where(cases.c.status != "closed", cases.c.next_review_by <= last)
            .order_by(cases.c.platform_id)
        )
        return [_case(row) for row in rows]

    async def releasing(self, first: date, last: date) -> list[Case]:
        """Cases not closed whose person is to be released from ``first`` to ``last``."""
        rows = await self._session.execute(
            select(cases)
            .where(cases.c.status != "closed", cases.c.release_date.between(first, last))
            .order_by(cases.c.platform_id)
        )
        return [_case(row) for row in rows]

    async def open_case(
        self,
        platform_id: str,
        *,
        category: int,
        area: str | None,
        level: CaseLevel,
        since: date,
        next_review_by: date,
    ) -> None:
        """Open a case, or reopen a closed one, pending screening."""
        values: dict[str, Any] = dict(
            category=category,
            area=area,
            level=level.level,
            status=level.status,
            confirmed=False,
            since=since,
            next_review_by=next_review_by,
            accepted_referral_level=None,
            closed_on=None,
            status_before_close=None,
        )
        await self._session.execute(
            upsert(self._session, cases, values), {"platform_id": platform_id, **values}
        )

    async def take_over(self, absorbed: str, survivor: str) -> None:
        """The survivor takes the absorbed record's case; a closed one of its own is replaced."""
        row = (await self._session.execute(select(cases).where(cases.c.platform_id == absorbed))).one()
        await self._session.execute(cases.delete().where(cases.c.platform_id == survivor))
        await self._session.execute(
            cases.insert(),
            {**row._mapping, "platform_id": survivor, "closed_on": None, "status_before_close": None},
        )

    async def add_merge(self, merge_id: int, *, survivor: str, absorbed: str, before: Case | None) -> bool:
        """Record a merge and the survivor's open case before it; False if it is on record already."""
        if await self.merge(merge_id) is not None:
            return False
        await self._session.execute(
            merges.insert(),
            dict(
                merge_id=merge_id,
                survivor=survivor,
                absorbed=absorbed,
                survivor_level=before.level.level if before else None,
                survivor_status=before.level.status if before else None,
                survivor_confirmed=before.confirmed if before else None,
                survivor_next_review_by=before.next_review_by if before else None,
                undone=False,
            ),
        )
        return True

    async def merge(self, merge_id: int) -> Any:
        return (await self._session.execute(select(merges).where(merges.c.merge_id == merge_id))).first()

    async def undo_merge(self, merge_id: int) -> None:
        await self._session.execute(merges.update().where(merges.c.merge_id == merge_id).values(undone=True))

    async def merged_into(self, absorbed: str) -> str | None:
        """The record ``absorbed`` lives on as, while its merge stands."""
        survivor: str | None = await self._session.scalar(_SURVIVOR, {"pid": absorbed})
        return survivor

    async def update(self, platform_id: str, **values: Any) -> None:
        await self._session.execute(_UPDATE_CASE, {"pid": platform_id, **values})

    async def add_referral(self, platform_id: str, referral_ref: str, **values: Any) -> bool:
        """Record an open referral; False if this reference is on record already."""
        if await self.referral(platform_id, referral_ref) is not None:
            return False
        await self._session.execute(
            referrals.insert(),
            dict(platform_id=platform_id, referral_ref=referral_ref, status="open", **values),
        )
        return True

    async def referral(self, platform_id: str, referral_ref: str) -> ReferralState | None:
        row = (
            await self._session.execute(
                select(referrals.c.status, referrals.c.level_sought).where(
                    referrals.c.platform_id == platform_id, referrals.c.referral_ref == referral_ref
                )
            )
        ).first()
        return None if row is None else ReferralState(row.status, row.level_sought)

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

    async def use_referral(self, platform_id: str, level: int) -> int | None:
        """A raise to ``level`` uses the lowest accepted referral that allows it.

        Referrals (open or accepted) asking no more than ``level`` have nothing
        left to ask and are withdrawn. Returns the highest level an accepted
        referral still allows, if any.
        """
        rows = (
            await self._session.execute(
                select(referrals.c.referral_ref, referrals.c.level_sought, referrals.c.status).where(
                    referrals.c.platform_id == platform_id, referrals.c.status.in_(("open", "accepted"))
                )
            )
        ).all()
        allowing = sorted(
            (r.level_sought, r.referral_ref)
            for r in rows
            if r.status == "accepted" and r.level_sought >= level
        )
        used = allowing[0][1] if allowing else None
        for row in rows:
            if row.referral_ref == used or row.level_sought <= level:
                await self._session.execute(
                    referrals.update()
                    .where(
                        referrals.c.platform_id == platform_id, referrals.c.referral_ref == row.referral_ref
                    )
                    .values(status="used" if row.referral_ref == used else "withdrawn")
                )
        return max((sought for sought, ref in allowing if ref != used and sought > level), default=None)

    async def withdraw_referrals(self, platform_id: str) -> None:
        """Referrals not yet acted on (open or accepted) are withdrawn."""
        await self._session.execute(
            referrals.update()
            .where(referrals.c.platform_id == platform_id, referrals.c.status.in_(("open", "accepted")))
            .values(status="withdrawn")
        )

    async def add_decision(self, platform_id: str, **values: Any) -> None:
        await self._session.execute(decisions.insert(), dict(platform_id=platform_id, **values))
