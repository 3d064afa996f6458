"""Meeting steps over HTTP: the co-ordinator schedules, reschedules, cancels and invites; the chair minutes.

Only MAPPA co-ordinators of the case's area, and the meeting's chair for
its minutes and actions, write. Times are Europe/London: a time given
without an offset is London's, and one the clocks skip or repeat is
refused. A step refused for who is asking is 403; one refused for the
state of the meeting is 409; either way nothing changes. Each step is
audited as a read of the case and published.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import AnyHttpUrl, BeforeValidator, Field, UrlConstraints, model_validator

from eventkit import steps
from eventkit.auth import Purpose
from eventkit.errors import Refused
from eventkit.guards import Caseworker
from eventkit.http import Db, Now, Policies, RequestBody
from eventkit.outbox import Emitter
from schemas.agencies import Agency, Role
from schemas.events.casework import StaffRef
from services.meetings import rules
from services.meetings.api import MeetingView, meeting_view, readable_meeting
from services.meetings.minutes import Minutes
from services.meetings.steps import SOURCE, Planning, Slot
from services.meetings.storage import Meeting, MeetingStore

router = APIRouter(tags=["meeting steps"])


def _with_a_time(value: Any) -> Any:
    # A date alone would be read as midnight: a meeting's time must be said.
    if isinstance(value, str) and "T" not in value.upper() and " " not in value.strip():
        raise ValueError("give the time as well as the date, e.g. 2027-03-05T10:00:00")
    return value


Moment = Annotated[
    datetime, BeforeValidator(_with_a_time), Field(description="Europe/London, or with its UTC offset")
]


class When(RequestBody):
    starts_at: Moment
    ends_at: Moment
    venue: str | None = Field(default=None, min_length=1, max_length=300)
    video_link: Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)] | None = None
    chair: StaffRef

    @model_validator(mode="after")
    def _somewhere(self) -> "When":
        if self.venue is None and self.video_link is None:
            raise ValueError("a meeting has a venue, a video link, or both")
        return self

    def slot(self, now: datetime) -> Slot | Refused:
        starts, ends = rules.london(self.starts_at), rules.london(self.ends_at)
        if isinstance(starts, Refused):
            return starts
        if isinstance(ends, Refused):
            return ends
        if refused := rules.meeting_times(starts, ends, now):
            return refused
        link = str(self.video_link) if self.video_link else None
        return Slot(starts_at=starts, ends_at=ends, venue=self.venue, video_link=link, chair=self.chair)


class Schedule(When):
    invited_agencies: list[Agency] = Field(
        default_factory=list,
        description="Duty-to-Co-operate agencies; the Responsible Authority always attends",
    )


class Invitation(RequestBody):
    agency: Agency


Step = Callable[[Planning, Meeting], Awaitable[Refused | None]]


class Actor(steps.Actor):
    """Who takes a step on a meeting and why, with the service's clock and area policies."""

    def __init__(self, principal: Caseworker, purpose: Purpose, db: Db, now: Now, policies: Policies) -> None:
        super().__init__(principal, purpose, db, source=SOURCE, record="meeting")
        self.now = now
        self._policies = policies

    def _may_write(self, meeting: Meeting, *, chair_too: bool) -> Refused | None:
        coordinator = self.principal.role is Role.MAPPA_COORDINATOR and self.principal.responsible_authority
        if coordinator or (chair_too and self.principal.user == meeting.chair_ref):
            return None
        who = "the MAPPA co-ordinator or the meeting's chair" if chair_too else "the MAPPA co-ordinator"
        return Refused(f"only {who} does this", authority=True)

    async def take_on(
        self, meeting_id: str, action: str, step: Step, *, chair_too: bool = False
    ) -> MeetingView:
        """Take ``step`` on a meeting of a case the caller may read, audited as a read of the case."""
        async with self.db.transaction() as session:
            platform_id = (await readable_meeting(session, self.principal, meeting_id)).platform_id

        async def on_meeting(work: Emitter) -> MeetingView | Refused:
            meeting = await readable_meeting(work.session, self.principal, meeting_id, to_change=True)
            planning = Planning(work, self._policies, now=self.now, today=rules.london_day(self.now))
            if refused := self._may_write(meeting, chair_too=chair_too) or await step(planning, meeting):
                return refused
            now = await MeetingStore(work.session).meeting(meeting_id)
            assert now is not None
            return await meeting_view(work.session, now, self.now)

        return await self.take(action, platform_id, on_meeting)


Acting = Annotated[Actor, Depends()]


def _slot(body: When, now: datetime) -> Slot:
    """The request's times as London times, checked: a time that cannot be a meeting's is a bad request."""
    slot = body.slot(now)
    if isinstance(slot, Refused):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, slot.reason)
    return slot


@router.post("/meetings/{meeting_id}/schedule", response_model=MeetingView)
async def schedule(meeting_id: str, body: Schedule, actor: Acting) -> MeetingView:
    """Schedule a required meeting: when, where, who chairs, which Duty-to-Co-operate agencies come."""
    slot = _slot(body, actor.now)
    return await actor.take_on(
        meeting_id, "schedule", lambda p, m: p.schedule(m, slot, body.invited_agencies)
    )


@router.post("/meetings/{meeting_id}/reschedule", response_model=MeetingView)
async def reschedule(meeting_id: str, body: When, actor: Acting) -> MeetingView:
    """Move a scheduled meeting, or change its place or chair; attendees' calendars follow (SEQUENCE + 1)."""
    slot = _slot(body, actor.now)
    return await actor.take_on(meeting_id, "reschedule", lambda p, m: p.reschedule(m, slot))


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingView)
async def cancel(meeting_id: str, actor: Acting) -> MeetingView:
    """Cancel the meeting (METHOD:CANCEL); the case still needs one, required by the same date."""
    return await actor.take_on(meeting_id, "cancel", lambda p, m: p.cancel(m))


@router.post("/meetings/{meeting_id}/invitations", response_model=MeetingView)
async def invite(meeting_id: str, body: Invitation, actor: Acting) -> MeetingView:
    """Invite a Duty-to-Co-operate agency: it may read the case while the invitation lasts."""
    return await actor.take_on(meeting_id, "invite", lambda p, m: p.invite(m, body.agency))


@router.delete("/meetings/{meeting_id}/invitations/{agency}", response_model=MeetingView)
async def uninvite(meeting_id: str, agency: Agency, actor: Acting) -> MeetingView:
    """End an agency's invitation: it no longer reads the case through this meeting."""
    return await actor.take_on(meeting_id, "uninvite", lambda p, m: p.uninvite(m, agency))


@router.post("/meetings/{meeting_id}/minutes", response_model=MeetingView)
async def record_minutes(meeting_id: str, body: Minutes, actor: Acting) -> MeetingView:
    """The chair records the minutes (MAPPA C): attendance, decisions, the level, the plan and its actions."""
    return await actor.take_on(
        meeting_id, "minutes", lambda p, m: p.record_minutes(m, body, actor.staff), chair_too=True
    )


@router.post("/meetings/{meeting_id}/actions/{action_id}/complete", response_model=MeetingView)
async def complete_action(meeting_id: str, action_id: str, actor: Acting) -> MeetingView:
    """Record an action of the meeting as done."""

    async def step(planning: Planning, meeting: Meeting) -> Refused | None:
        action = await planning.store.action(action_id)
        if action is None or action["meeting_id"] != meeting.meeting_id:
            return Refused("no such action at this meeting")
        return await planning.complete_action(action)

    return await actor.take_on(meeting_id, "action-complete", step, chair_too=True)
