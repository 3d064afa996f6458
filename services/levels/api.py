"""The levels read API: a case's level and history, reviews due or overdue, open referrals.

Authentication, need-to-know and audit are the registry's (the shared
``eventkit`` code): a case the caller may not read is answered exactly as
a missing one, and every read is audited in the read's own transaction.
"""

from datetime import date
from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit
from eventkit.auth import Principal, Purpose
from eventkit.guards import (
    Caseworker,
    HistoryLine,
    Limit,
    Offset,
    ResponsibleAuthority,
    add_audit_trail,
    may_read_case,
    read_history,
)
from eventkit.http import Db, Policies, Today
from services.levels.reads import LevelReads
from services.levels.reviews import review_stage
from services.levels.storage import Case, LevelStore

router = APIRouter(tags=["levels"])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such case")


class LevelDecision(BaseModel):
    kind: str
    level: int
    previous_level: int
    rationale: str
    decided_on: date
    decided_by: str
    decided_by_role: str
    authorised_by: str | None
    authorised_by_role: str | None


class Referral(BaseModel):
    platform_id: str
    referral_ref: str
    level_sought: int
    referring_agency: str
    reasons: str
    current_rosh: str
    lower_level_insufficient: str
    referred_on: date
    referred_by: str
    status: str
    decision_reason: str | None
    decided_on: date | None
    decided_by: str | None


class CaseView(BaseModel):
    platform_id: str
    category: int
    area: str | None
    lead_agency: str | None
    level: int
    status: str
    level_confirmed: bool
    since: date
    next_review_by: date | None
    release_date: date | None
    rosh: str | None
    accepted_referral_level: int | None
    decisions: list[LevelDecision]
    referrals: list[Referral]


class ReviewView(BaseModel):
    platform_id: str
    level: int
    review_by: date
    stage: Literal["due", "overdue"]


async def readable(session: AsyncSession, principal: Principal, platform_id: str) -> Case:
    """The case, if the caller may read it; otherwise the same 404 as for no case."""
    case = await LevelStore(session).case(platform_id, to_change=False)
    if case is None or not await may_read_case(session, principal, platform_id, case.area):
        raise NOT_FOUND
    return case


@router.get("/cases/{platform_id}", response_model=CaseView)
async def case(platform_id: str, principal: Caseworker, purpose: Purpose, db: Db) -> CaseView:
    """The case's current level, the decisions that set it, and its referrals."""
    async with db.transaction() as session:
        view = await case_view(session, await readable(session, principal, platform_id))
        await audit.record_read(
            session, principal, purpose=purpose, record_type="case", record_id=platform_id
        )
    return view


async def case_view(session: AsyncSession, found: Case) -> CaseView:
    reads = LevelReads(session)
    return CaseView(
        platform_id=found.platform_id,
        category=found.category,
        area=found.area,
        lead_agency=found.lead_agency,
        level=found.level.level,
        status=found.level.status,
        level_confirmed=found.confirmed,
        since=found.since,
        next_review_by=found.next_review_by,
        release_date=found.release_date,
        rosh=found.rosh,
        accepted_referral_level=found.accepted_referral_level,
        decisions=[LevelDecision(**d) for d in await reads.decisions(found.platform_id)],
        referrals=[Referral(**r) for r in await reads.referrals(found.platform_id)],
    )


@router.get("/cases/{platform_id}/history", response_model=list[HistoryLine])
async def case_history(
    platform_id: str, principal: Caseworker, purpose: Purpose, db: Db, limit: Limit = 50, offset: Offset = 0
) -> list[HistoryLine]:
    """Every change to the case, oldest first, with the event or decision that caused it."""
    async with db.transaction() as session:
        await readable(session, principal, platform_id)
        return await read_history(
            session,
            principal,
            purpose,
            subject=platform_id,
            record_type="case-history",
            not_found=NOT_FOUND,
            limit=limit,
            offset=offset,
        )


# What a read or step on the case may have been; its audit trail's own reads come last.
_STEPS = ("case-screening", "case-referral", "case-referral-decision", "case-level")
READS_OF_A_CASE = (
    "case",
    "case-history",
    *_STEPS,
    *(f"{step}-refused" for step in _STEPS),
    "open-referrals",
    "case-reads",
)


async def _area(session: AsyncSession, platform_id: str) -> str | None:
    found = await LevelStore(session).case(platform_id, to_change=False)
    return None if found is None else found.area


add_audit_trail(
    router,
    "/cases/{platform_id}/reads",
    record_types=READS_OF_A_CASE,
    area_of=_area,
    not_found=NOT_FOUND,
    description="Who read or acted on the case, when and why: for its area's auditors.",
)


@router.get("/reviews", response_model=list[ReviewView])
async def reviews(
    principal: ResponsibleAuthority,
    purpose: Purpose,
    db: Db,
    today: Today,
    policies: Policies,
    stage: Literal["due", "overdue"] | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[ReviewView]:
    """The caller's area's cases due or overdue for review (platform ids only), soonest first."""
    async with db.transaction() as session:
        found = [
            ReviewView(platform_id=c.platform_id, level=c.level.level, review_by=c.next_review_by, stage=s)
            for c in await LevelStore(session).open_cases(in_area=principal.area)
            if c.next_review_by is not None
            and (s := review_stage(c.next_review_by, today, policies.for_area(c.area))) is not None
            and stage in (None, s)
        ]
        await audit.record_read(
            session, principal, purpose=purpose, record_type="reviews", record_id=principal.area
        )
    found.sort(key=lambda r: (r.review_by, r.platform_id))
    return found[offset : offset + limit]


@router.get("/referrals", response_model=list[Referral])
async def open_referrals(
    principal: ResponsibleAuthority, purpose: Purpose, db: Db, limit: Limit = 50, offset: Offset = 0
) -> list[Referral]:
    """Referrals in the caller's area awaiting the co-ordinator's decision, oldest first.

    Each case whose referral is shown is audited as read, as its reasons are.
    """
    async with db.transaction() as session:
        found = (await LevelReads(session).open_referrals(principal.area))[offset : offset + limit]
        for platform_id in sorted({r["platform_id"] for r in found}):
            await audit.record_read(
                session, principal, purpose=purpose, record_type="open-referrals", record_id=platform_id
            )
    return [Referral(**r) for r in found]
