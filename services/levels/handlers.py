"""Level management handlers: what the register says, and casework agencies publish.

Thin: each parses, hands the step to ``casework`` and, for casework the
rules refuse, dead-letters the event with the rule's reason.
"""

from eventkit.consumer import Handlers, UnitOfWork
from eventkit.errors import Refused, RefusedByRule
from schemas.catalogue import TOPIC_OF_EVENT
from schemas.events import registry
from schemas.events.casework import (
    LevelDecisionRecorded,
    ReferralDecided,
    ReferralSubmitted,
    ScreeningRecorded,
)
from schemas.events.levels import MeetingLevelDecisionRefused
from schemas.events.meetings import MeetingLevelDecided
from services.levels import merges
from services.levels.casework import Casework

handlers = Handlers()


def _casework(work: UnitOfWork) -> Casework:
    assert work.policies is not None, "the levels service runs with its area policies"
    return Casework(work, work.policies)


def _done(refused: Refused | None) -> None:
    if refused is not None:
        raise RefusedByRule(refused.reason)


@handlers.on(registry.CategoryAssigned)
async def category_assigned(data: registry.CategoryAssigned, work: UnitOfWork) -> None:
    await _casework(work).categorised(data.platform_id, data.category, data.area, data.effective_date)


@handlers.on(registry.ExitedMappa)
async def exited(data: registry.ExitedMappa, work: UnitOfWork) -> None:
    await _casework(work).exited(data.platform_id, data.exited_on)


@handlers.on(registry.NominalsMerged)
async def merged(data: registry.NominalsMerged, work: UnitOfWork) -> None:
    on = work.today
    await merges.merged(_casework(work), data.merge_id, data.absorbed_platform_id, data.platform_id, on)


@handlers.on(registry.NominalsUnmerged)
async def unmerged(data: registry.NominalsUnmerged, work: UnitOfWork) -> None:
    await merges.unmerged(_casework(work), data.merge_id, work.today)


@handlers.on(registry.RiskAssessed)
async def risk_assessed(data: registry.RiskAssessed, work: UnitOfWork) -> None:
    await _casework(work).risk_assessed(data.platform_id, data.rosh, data.completed_on)


@handlers.on(registry.Charged)
async def charged(data: registry.Charged, work: UnitOfWork) -> None:
    await _casework(work).charged(data.platform_id, data.charged_on, data.serious_further_offence)


@handlers.on(registry.ReleaseDateSet)
async def release_date_set(data: registry.ReleaseDateSet, work: UnitOfWork) -> None:
    change = f"release date {data.release_date.isoformat()}"
    await _casework(work).case_fact(data.platform_id, change, release_date=data.release_date)


@handlers.on(registry.LeadAgencySet)
async def lead_agency_set(data: registry.LeadAgencySet, work: UnitOfWork) -> None:
    change = f"lead agency {data.lead_agency}"
    await _casework(work).case_fact(data.platform_id, change, lead_agency=data.lead_agency)


@handlers.on(registry.Transferred)
async def transferred(data: registry.Transferred, work: UnitOfWork) -> None:
    change = f"transferred to area {data.to_area}"
    await _casework(work).case_fact(data.platform_id, change, area=data.to_area)


@handlers.on(ScreeningRecorded)
async def screening_recorded(data: ScreeningRecorded, work: UnitOfWork) -> None:
    # Each agency has its own event type, accepted only on its own topic: the type names the agency.
    agency = TOPIC_OF_EVENT[work.cause.type].producer
    _done(await _casework(work).screened(data, agency))


@handlers.on(ReferralSubmitted)
async def referral_submitted(data: ReferralSubmitted, work: UnitOfWork) -> None:
    _done(await _casework(work).referred(data))


@handlers.on(ReferralDecided)
async def referral_decided(data: ReferralDecided, work: UnitOfWork) -> None:
    _done(await _casework(work).referral_decided(data))


@handlers.on(LevelDecisionRecorded)
async def level_decision_recorded(data: LevelDecisionRecorded, work: UnitOfWork) -> None:
    _done(await _casework(work).level_decided(data))


@handlers.on(MeetingLevelDecided)
async def meeting_level_decided(data: MeetingLevelDecided, work: UnitOfWork) -> None:
    # The meeting's rationale stays in its minutes, behind the meetings API: the decision points there.
    decision = LevelDecisionRecorded(
        platform_id=data.platform_id,
        level=data.level,
        rationale=f"decided at MAPPA meeting {data.meeting_id}: the rationale is in its minutes",
        decided_on=data.decided_on,
        decided_by=data.chair,
        authorised_by=data.authorised_by,
    )
    if (refused := await _casework(work).level_decided(decision)) is not None:
        # Not a bad message: the meeting's decision stands in its minutes, and the meeting is told why
        # the case keeps its level.
        await work.emit(
            MeetingLevelDecisionRefused(
                platform_id=data.platform_id,
                meeting_id=data.meeting_id,
                level=data.level,
                reason=refused.reason,
            ),
            key=data.platform_id,
        )
