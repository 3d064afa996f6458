"""The read model kept from the platform's topics: each handler sets what its event says.

Thin: every event is one upsert of the columns it speaks for (``tables.py``
says which topic owns which column), so a redelivery or a rebuild gives the
same rows.
"""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events import levels, meetings, notifications, operations, registry
from services.operations.storage import CaseworkStore, DeadLetterStore

handlers = Handlers()


def _store(work: UnitOfWork) -> CaseworkStore:
    return CaseworkStore(work.session)


# The register: area, category, registration deadlines.
@handlers.on(registry.CategoryAssigned)
async def category_assigned(data: registry.CategoryAssigned, work: UnitOfWork) -> None:
    if data.area is None:
        await _store(work).case(data.platform_id, category=data.category)
    else:
        await _store(work).case(data.platform_id, category=data.category, area=data.area)


@handlers.on(registry.Transferred)
async def transferred(data: registry.Transferred, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, area=data.to_area)


@handlers.on(registry.NotificationOverdue)
async def notification_overdue(data: registry.NotificationOverdue, work: UnitOfWork) -> None:
    # Late notice of foreign travel is a breach on record, not a notification still to be made.
    if data.notification != "foreign-travel":
        await _store(work).registration_overdue(data.platform_id, data.deadline)


@handlers.on(registry.NotificationMade)
async def notification_made(data: registry.NotificationMade, work: UnitOfWork) -> None:
    # The register says what is still overdue after it (a change of name does not make the initial).
    await _store(work).case(data.platform_id, registration_overdue_since=data.overdue_since)


# Levels: whether a case is open, its level, review and release screening.
@handlers.on(levels.ScreeningDue)
async def screening_due(data: levels.ScreeningDue, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, in_mappa=True, level=data.level)


async def _decided(data: levels.LevelSet | levels.LevelChanged, work: UnitOfWork) -> None:
    await _store(work).case(
        data.platform_id,
        level=data.level,
        review_by=data.next_review_by,
        review_stage=None,
        release_screening_by=None,
    )


handlers.on(levels.LevelSet)(_decided)
handlers.on(levels.LevelChanged)(_decided)


@handlers.on(levels.ReviewDue)
async def review_due(data: levels.ReviewDue, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, review_by=data.review_by, review_stage="due")


@handlers.on(levels.ReviewOverdue)
async def review_overdue(data: levels.ReviewOverdue, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, review_by=data.review_by, review_stage="overdue")


@handlers.on(levels.ReleaseScreeningAlert)
async def release_screening(data: levels.ReleaseScreeningAlert, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, release_screening_by=data.release_date)


@handlers.on(levels.CaseClosed)
async def case_closed(data: levels.CaseClosed, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, in_mappa=False, review_stage=None, release_screening_by=None)


@handlers.on(levels.CaseReopened)
async def case_reopened(data: levels.CaseReopened, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, in_mappa=True, level=data.level)


@handlers.on(levels.CaseMerged)
async def case_merged(data: levels.CaseMerged, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, in_mappa=True, level=data.level)


@handlers.on(levels.CaseUnmerged)
async def case_unmerged(data: levels.CaseUnmerged, work: UnitOfWork) -> None:
    await _store(work).case(data.platform_id, in_mappa=data.status != "closed", level=data.level)


# Meetings: each meeting's state, minutes and actions.
@handlers.on(meetings.MeetingRequired)
async def meeting_required(data: meetings.MeetingRequired, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "required", required_by=data.required_by)


async def _scheduled(data: meetings.MeetingScheduled | meetings.MeetingRescheduled, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "scheduled")


handlers.on(meetings.MeetingScheduled)(_scheduled)
handlers.on(meetings.MeetingRescheduled)(_scheduled)


@handlers.on(meetings.MeetingOverdue)
async def meeting_overdue(data: meetings.MeetingOverdue, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "overdue", required_by=data.required_by)


@handlers.on(meetings.MeetingCancelled)
async def meeting_cancelled(data: meetings.MeetingCancelled, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "cancelled")


@handlers.on(meetings.MinutesRecorded)
async def minutes_recorded(data: meetings.MinutesRecorded, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "held", minutes_overdue=False)


@handlers.on(meetings.MinutesOverdue)
async def minutes_overdue(data: meetings.MinutesOverdue, work: UnitOfWork) -> None:
    await _store(work).meeting(data.meeting_id, data.platform_id, "held", minutes_overdue=True)


@handlers.on(meetings.ActionAssigned)
async def action_assigned(data: meetings.ActionAssigned, work: UnitOfWork) -> None:
    await _store(work).action(data.action_id, data.platform_id, "open", data.due_on)


@handlers.on(meetings.ActionCompleted)
async def action_completed(data: meetings.ActionCompleted, work: UnitOfWork) -> None:
    await _store(work).action(data.action_id, data.platform_id, "completed", data.due_on)


@handlers.on(meetings.ActionOverdue)
async def action_overdue(data: meetings.ActionOverdue, work: UnitOfWork) -> None:
    await _store(work).action(data.action_id, data.platform_id, "overdue", data.due_on)


# Notifications: which failed, which urgent ones nobody acknowledged.
@handlers.on(notifications.NotificationQueued)
async def queued(data: notifications.NotificationQueued, work: UnitOfWork) -> None:
    await _store(work).notice(data.notification_id, data.platform_id, urgent=data.urgent)


@handlers.on(notifications.NotificationFailed)
async def failed(data: notifications.NotificationFailed, work: UnitOfWork) -> None:
    await _store(work).notice(data.notification_id, data.platform_id, failed=True)


@handlers.on(notifications.NotificationAcknowledged)
async def acknowledged(data: notifications.NotificationAcknowledged, work: UnitOfWork) -> None:
    await _store(work).notice(data.notification_id, data.platform_id, acknowledged=True)


# Operators' decisions about dead letters.
async def _decided_dead_letter(
    data: operations.DeadLetterReplayed | operations.DeadLetterDiscarded, work: UnitOfWork
) -> None:
    decision = "replayed" if isinstance(data, operations.DeadLetterReplayed) else "discarded"
    await DeadLetterStore(work.session).decided(data, decision)


handlers.on(operations.DeadLetterReplayed)(_decided_dead_letter)
handlers.on(operations.DeadLetterDiscarded)(_decided_dead_letter)
