"""Casework over HTTP: screening, referrals, referral decisions and level decisions.

Each request becomes the casework event an agency's system would publish,
with the caller's token as who acted and in what role, and takes the same
step (``casework``). A step refused for who is asking (a level 3 decision
by someone who is not a senior officer) is 403; one refused for the state
of the case is 409; either way nothing changes. Each step is audited,
kept in the case's history and published.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import Field, ValidationError

from eventkit import steps
from eventkit.auth import Purpose
from eventkit.errors import Refused
from eventkit.guards import Caseworker
from eventkit.http import Db, Policies, RequestBody, Today
from eventkit.outbox import Emitter
from schemas.events.casework import (
    LevelDecisionRecorded,
    ReferralDecided,
    ReferralSubmitted,
    ScreeningRecorded,
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


class Actor(steps.Actor):
    """Who takes a step on a case and why, with the service's date and area policies."""

    def __init__(
        self, principal: Caseworker, purpose: Purpose, db: Db, today: Today, policies: Policies
    ) -> None:
        super().__init__(principal, purpose, db, source=SOURCE, record="case")
        self.today = today
        self._policies = policies

    async def take_on(
        self, platform_id: str, action: str, step: Callable[[Casework], Awaitable[Refused | None]]
    ) -> CaseView:
        """Take ``step`` on a case the caller may read, audited as ``case-<action>``."""

        async def on_case(work: Emitter) -> CaseView | Refused:
            await readable(work.session, self.principal, platform_id)
            if (refused := await step(Casework(work, self._policies))) is not None:
                return refused
            now = await LevelStore(work.session).case(platform_id)
            assert now is not None
            return await case_view(work.session, now)

        return await self.take(action, platform_id, on_case)


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
    return await actor.take_on(platform_id, "screening", lambda c: c.screened(step, actor.principal.agency))


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
    return await actor.take_on(platform_id, "referral", lambda c: c.referred(step))


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
    return await actor.take_on(platform_id, "referral-decision", lambda c: c.referral_decided(step))


@router.post("/cases/{platform_id}/level", response_model=CaseView)
async def decide_level(platform_id: str, body: LevelDecision, actor: Acting) -> CaseView:
    """Set, raise, lower or confirm (at review) the case's level; level 3 only by a senior officer."""
    step = LevelDecisionRecorded(
        platform_id=platform_id, decided_on=actor.today, decided_by=actor.staff, **body.model_dump()
    )
    return await actor.take_on(platform_id, "level", lambda c: c.level_decided(step))
