"""Meeting scheduling's handlers: what the register and levels publish, turned into meeting steps.

Thin: each parses and hands the step to ``steps.Planning``.
"""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events import levels, registry
from services.meetings import rules
from services.meetings.steps import Planning

handlers = Handlers()


def _planning(work: UnitOfWork) -> Planning:
    assert work.policies is not None, "the meetings service runs with its area policies"
    return Planning(work, work.policies, now=work.now, today=work.today)


@handlers.on(registry.CategoryAssigned)
async def category_assigned(data: registry.CategoryAssigned, work: UnitOfWork) -> None:
    await _planning(work).placed(data.platform_id, data.area)


@handlers.on(registry.Transferred)
async def transferred(data: registry.Transferred, work: UnitOfWork) -> None:
    await _planning(work).placed(data.platform_id, data.to_area)


@handlers.on(levels.ScreeningDue)
async def screening_due(data: levels.ScreeningDue, work: UnitOfWork) -> None:
    decision = rules.meeting_decision(data.level)
    planning = _planning(work)
    planning.store.record_not_required(data.platform_id, data.level, decision, work.cause.id)
    if not decision.required:
        await planning.not_required(data.platform_id, data.level, decision.reason)


@handlers.on(levels.ReferralAccepted)
async def referral_accepted(data: levels.ReferralAccepted, work: UnitOfWork) -> None:
    await _planning(work).referral_accepted(data.platform_id, data.level_sought, data.decided_on)


@handlers.on(levels.LevelSet)
async def level_set(data: levels.LevelSet, work: UnitOfWork) -> None:
    await _planning(work).level_decided(data.platform_id, data.level, data.next_review_by)


@handlers.on(levels.LevelChanged)
async def level_changed(data: levels.LevelChanged, work: UnitOfWork) -> None:
    await _planning(work).level_decided(data.platform_id, data.level, data.next_review_by)


@handlers.on(levels.CaseClosed)
async def case_closed(data: levels.CaseClosed, work: UnitOfWork) -> None:
    await _planning(work).ended(data.platform_id, "case-closed")


@handlers.on(levels.MeetingLevelDecisionRefused)
async def level_decision_refused(data: levels.MeetingLevelDecisionRefused, work: UnitOfWork) -> None:
    await _planning(work).level_refused(data.platform_id, data.meeting_id, data.reason)


@handlers.on(levels.CaseMerged)
async def case_merged(data: levels.CaseMerged, work: UnitOfWork) -> None:
    await _planning(work).merged(data.platform_id, data.absorbed_platform_id, data.level)


@handlers.on(levels.CaseReopened)
async def case_reopened(data: levels.CaseReopened, work: UnitOfWork) -> None:
    await _planning(work).reopened(data.platform_id, data.level, managed=data.status == "managed")


@handlers.on(levels.CaseUnmerged)
async def case_unmerged(data: levels.CaseUnmerged, work: UnitOfWork) -> None:
    # The survivor is back to its level before the merge, or closed if it had no case then.
    planning = _planning(work)
    if data.status == "closed":
        await planning.ended(data.platform_id, "case-closed")
    else:
        await planning.reopened(data.platform_id, data.level, managed=data.status == "managed")
