"""Meeting scheduling's time-driven rules: meetings, minutes and actions gone overdue.

Each is published once (``eventkit.scheduler.once``): a restart, or a second
instance, does not repeat it. Each job reads only what is past its date, on
indexed columns, never every meeting.
"""

from datetime import datetime

from eventkit.clock import local_date
from eventkit.outbox import Emitter
from eventkit.policy import AreaPolicies
from eventkit.scheduler import Job, once
from schemas.agencies import Role
from schemas.events import meetings as events
from services.meetings import rules
from services.meetings.policy import MeetingsPolicy
from services.meetings.steps import Planning


def jobs(policies: AreaPolicies[MeetingsPolicy]) -> tuple[Job, ...]:
    """The service's jobs, under the area policies it runs with."""

    def planning(work: Emitter, now: datetime) -> Planning:
        return Planning(work, policies, now=now, today=local_date(now))

    async def meetings_overdue(work: Emitter, now: datetime) -> None:
        """A required meeting not scheduled to take place by its date: once per meeting and date."""
        steps = planning(work, now)
        for meeting in await steps.store.required_before(steps.today):
            if not rules.meeting_overdue(
                meeting.required_by, meeting.starts_on, held=False, today=steps.today
            ):
                continue
            key = f"{meeting.meeting_id}/{meeting.required_by.isoformat()}"
            if await once(work.session, job="meeting-overdue", key=key, now=now):
                await work.emit(
                    events.MeetingOverdue(
                        platform_id=meeting.platform_id,
                        meeting_id=meeting.meeting_id,
                        level=meeting.level,
                        required_by=meeting.required_by,
                    ),
                    key=meeting.platform_id,
                )

    async def minutes_overdue(work: Emitter, now: datetime) -> None:
        """Minutes not recorded within the area's window after the meeting: once per meeting."""
        steps = planning(work, now)
        for meeting in await steps.store.started_before(now):
            held_on = meeting.starts_on
            assert held_on is not None
            policy = await steps.policy(meeting.platform_id)
            if not rules.minutes_overdue(held_on, recorded=False, today=steps.today, policy=policy):
                continue
            if await once(work.session, job="minutes-overdue", key=meeting.meeting_id, now=now):
                await work.emit(
                    events.MinutesOverdue(
                        platform_id=meeting.platform_id,
                        meeting_id=meeting.meeting_id,
                        held_on=held_on,
                        due_by=rules.minutes_due_by(held_on, policy),
                        chair_role=Role(meeting.chair_role or Role.MEETING_CHAIR),
                    ),
                    key=meeting.platform_id,
                )

    async def actions_overdue(work: Emitter, now: datetime) -> None:
        """An action not completed by its due date: once per action."""
        steps = planning(work, now)
        for action in await steps.store.actions_due_before(steps.today):
            if await once(work.session, job="action-overdue", key=action["action_id"], now=now):
                overdue = events.ActionOverdue(**steps.action_fields(action))
                await work.emit(overdue, key=overdue.platform_id)

    return (meetings_overdue, minutes_overdue, actions_overdue)
