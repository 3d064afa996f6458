"""Casework over HTTP: screening, referrals, referral decisions and level decisions.

Each request becomes the casework event an agency's system would publish,
with the caller's token as who acted and in what role, and takes the same
step (``casework``). A step refused for who is asking (a level 3 decision
by someone who is not a senior officer) is 403; one refused for the state
of the case is 409; either way nothing changes. Each step is audited,
kept in the case's history and published.
"""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import audit
from eventkit.auth import Purpose
from eventkit.errors import Refused
from eventkit.guards import Caseworker
from eventkit.http import Db, Policies, RequestBody, Today
from eventkit.outbox import Cause, Emitter
from schemas.events.casework import (
    LevelDecisionRecorded,
    ReferralDecided,
    ReferralSubmitted,
    ScreeningRecorded,
    StaffRef,
)
from schemas.events.common import Rosh
from services.levels.api import CaseView, case_view, readable
from services.levels.casework import Casework
from services.levels.storage import LevelStore

router = APIRouter(tags=["casework"])
SOURCE = "/mappa/levels"


class Screening(RequestBody):
    outcome: Literal["level-1", "referral"]
    level_sought: Literal[2, 3] | None = None


class Referral(RequestBody):
    referral_ref: str = Field(min_length=1, max_length=64)
    level_sought: Literal[2, 3]
    reasons: str = Field(min_length=1, max_length=2000)
    current_rosh: Rosh
    lower_level_insufficient: str = Field(min_length=1, max_length=2000)


class ReferralDecision(RequestBody):
    decision: Literal["accepted", "declined"]
    reason: str = Field(min_length=1, max_length=2000)


class LevelDecision(RequestBody):
    level: Literal[1, 2, 3]
    rationale: str = Field(min_length=1, max_length=2000)


class _RolledBack(Exception):
    def __init__(self, refused: Refused) -> None:
        self.refused = refused


class Actor:
    """Who takes a step and why, with the service's database, date and area policies."""

    def __init__(
        self, principal: Caseworker, purpose: Purpose, db: Db, today: Today, policies: Policies
    ) -> None:
        self.principal = principal
        self.purpose = purpose
        self.today = today
        self._db = db
        self._policies = policies

    @property
    def staff(self) -> StaffRef:
        return StaffRef(staff_ref=self.principal.user, role=self.principal.role)

    async def take(
        self, platform_id: str, action: str, step: Callable[[Casework], Awaitable[Refused | None]]
    ) -> CaseView:
        """Take ``step`` on a case the caller may read, audited; a refusal changes nothing.

        A refusal tells the caller something of the case (its level, its lead
        agency), so it is audited too, once its transaction has rolled back.
        """
        try:
            async with self._db.transaction() as session:
                await readable(session, self.principal, platform_id)
                work = Emitter(session, SOURCE, Cause(f"{action}/{uuid.uuid4().hex}", f"decision/{action}"))
                if (refused := await step(Casework(work, self._policies))) is not None:
                    raise _RolledBack(refused)
                await self._audit(session, f"case-{action}", platform_id)
                now = await LevelStore(session).case(platform_id)
                assert now is not None
                return await case_view(session, now)
        except _RolledBack as rolled_back:
            refused = rolled_back.refused
        async with self._db.transaction() as session:
            await self._audit(session, f"case-{action}-refused", platform_id)
        code = status.HTTP_403_FORBIDDEN if refused.authority else status.HTTP_409_CONFLICT
        raise HTTPException(code, refused.reason)

    async def _audit(self, session: AsyncSession, record_type: str, platform_id: str) -> None:
        await audit.record_read(
            session, self.principal, purpose=self.purpose, record_type=record_type, record_id=platform_id
        )


Acting = Annotated[Actor, Depends()]


@router.post("/cases/{platform_id}/screening", response_model=CaseView)
async def screening(platform_id: str, body: Screening, actor: Acting) -> CaseView:
    """Record the lead agency's screening: level 1, or a referral for level 2 or 3 (the referral follows)."""
    if not actor.principal.responsible_authority:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "screening is for the Responsible Authority")
    try:
        step = ScreeningRecorded(
            platform_id=platform_id, screened_on=actor.today, screened_by=actor.staff, **body.model_dump()
        )
    except ValidationError as error:  # a level sought without a referral, or the reverse
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, error.errors()[0]["msg"]) from None
    return await actor.take(platform_id, "screening", lambda c: c.screened(step, actor.principal.agency))


@router.post("/cases/{platform_id}/referrals", response_model=CaseView, status_code=status.HTTP_201_CREATED)
async def refer(platform_id: str, body: Referral, actor: Acting) -> CaseView:
    """A MAPPA A referral by anyone who reads the case.

    A Duty-to-Co-operate agency reads a case only while invited to its
    meetings; until then it refers through its case system's events.
    """
    step = ReferralSubmitted(
        platform_id=platform_id,
        referring_agency=actor.principal.agency,
        referred_on=actor.today,
        referred_by=actor.staff,
        **body.model_dump(),
    )
    return await actor.take(platform_id, "referral", lambda c: c.referred(step))


@router.post("/cases/{platform_id}/referrals/{referral_ref}/decision", response_model=CaseView)
async def decide_referral(
    platform_id: str, referral_ref: str, body: ReferralDecision, actor: Acting
) -> CaseView:
    """The MAPPA co-ordinator accepts or declines a referral, with the reason."""
    step = ReferralDecided(
        platform_id=platform_id,
        referral_ref=referral_ref,
        decided_on=actor.today,
        decided_by=actor.staff,
        **body.model_dump(),
    )
    return await actor.take(platform_id, "referral-decision", lambda c: c.referral_decided(step))


@router.post("/cases/{platform_id}/level", response_model=CaseView)
async def decide_level(platform_id: str, body: LevelDecision, actor: Acting) -> CaseView:
    """Set, raise, lower or confirm (at review) the case's level; level 3 only by a senior officer."""
    step = LevelDecisionRecorded(
        platform_id=platform_id, decided_on=actor.today, decided_by=actor.staff, **body.model_dump()
    )
    return await actor.take(platform_id, "level", lambda c: c.level_decided(step))
