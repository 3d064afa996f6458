"""The meetings read API: an area's meetings, a case's meetings, one meeting in full, its invitation.

Authentication, need-to-know and audit are the shared ``eventkit`` ones: a
meeting of a case the caller may not read is answered exactly as a missing
one, and every read that shows a case's platform id is audited in the
read's own transaction, as a read of that case.
"""

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit import access, audit
from eventkit.auth import Principal, Purpose
from eventkit.guards import Caseworker, ResponsibleAuthority, add_audit_trail
from eventkit.http import Db, Now, Policies
from services.meetings import rules
from services.meetings.steps import Planning
from services.meetings.storage import OPEN, Meeting, MeetingStore

router = APIRouter(tags=["meetings"])
NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, "no such meeting")
# How reads of a case's meetings appear in its audit trail.
RECORD = "case-meetings"


class MeetingSummary(BaseModel):
    meeting_id: str
    platform_id: str
    level: int
    kind: str
    required_by: date
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    overdue: bool


class AttendeeView(BaseModel):
    agency: str
    core: bool
    invited_on: date
    ended_on: date | None


class ActionView(BaseModel):
    action_id: str
    meeting_id: str
    platform_id: str
    pillar: str
    description: str
    rationale: str
    owner_agency: str
    owner_staff_ref: str
    due_on: date
    completed_on: date | None


class MinutesView(BaseModel):
    held_on: date
    recorded_at: datetime
    recorded_by: str
    attendance: list[dict[str, Any]]
    confidentiality_statement_read: bool
    victim_liaison_officer_present: bool
    victim_views: str | None
    summary: str
    decisions: list[dict[str, Any]]
    differing_views: str | None
    level_decided: int
    level_refused: str | None = Field(
        description="Why levels did not apply the level decided (the case kept its level); null otherwise"
    )
    level_rationale: str
    authorised_by: str | None
    authorised_by_role: str | None
    plan: dict[str, Any]
    disclosure_considered: bool
    disclosure_decision: str | None


class MeetingView(MeetingSummary):
    venue: str | None
    video_link: str | None
    chair_ref: str | None
    chair_role: str | None
    sequence: int
    attendees: list[AttendeeView]
    minutes: MinutesView | None
    actions: list[ActionView]


def summary(meeting: Meeting, now: datetime) -> MeetingSummary:
    overdue = meeting.status in OPEN and rules.meeting_overdue(
        meeting.required_by, meeting.starts_on, held=False, today=rules.london_day(now)
    )
    return MeetingSummary(
        meeting_id=meeting.meeting_id,
        platform_id=meeting.platform_id,
        level=meeting.level,
        kind=meeting.kind,
        required_by=meeting.required_by,
        status=meeting.status,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        overdue=overdue,
    )


async def readable_case(session: AsyncSession, principal: Principal, platform_id: str) -> bool:
    """Need-to-know from meetings' own records: the case's area and who is invited to its meetings."""
    store = MeetingStore(session)
    case = await store.case(platform_id)
    invited = frozenset() if principal.responsible_authority else await store.invited_agencies(platform_id)
    return access.may_read_nominal(principal, case.area if case else None, invited)


async def readable_meeting(
    session: AsyncSession, principal: Principal, meeting_id: str, *, to_change: bool = False
) -> Meeting:
    """The meeting, if the caller may read its case; otherwise the same 404 as for no meeting."""
    meeting = await MeetingStore(session).meeting(meeting_id, to_change=to_change)
    if meeting is None or not await readable_case(session, principal, meeting.platform_id):
        raise NOT_FOUND
    return meeting


async def meeting_view(session: AsyncSession, meeting: Meeting, now: datetime) -> MeetingView:
    store = MeetingStore(session)
    minutes = await store.minutes(meeting.meeting_id)
    return MeetingView(
        **summary(meeting, now).model_dump(),
        venue=meeting.venue,
        video_link=meeting.video_link,
        chair_ref=meeting.chair_ref,
        chair_role=meeting.chair_role,
        sequence=meeting.sequence,
        attendees=[AttendeeView(**vars(a)) for a in await store.attendees(meeting.meeting_id)],
        minutes=MinutesView(**minutes) if minutes else None,
        actions=[ActionView(**a) for a in await store.actions(meeting.meeting_id)],
    )


async def _audit(session: AsyncSession, principal: Principal, purpose: str, platform_ids: set[str]) -> None:
    await audit.record_reads(session, principal, purpose=purpose, record_type=RECORD, record_ids=platform_ids)


@router.get("/areas/{area}/meetings", response_model=list[MeetingSummary])
async def area_meetings(
    area: str,
    principal: ResponsibleAuthority,
    purpose: Purpose,
    db: Db,
    now: Now,
    when: Literal["upcoming", "unscheduled", "overdue"] = Query("upcoming"),
) -> list[MeetingSummary]:
    """The area's meetings to come (scheduled), still to be scheduled, or overdue; by date."""
    if principal.area != area:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such area for this user")
    async with db.transaction() as session:
        found = [summary(m, now) for m in await MeetingStore(session).of_area(area, OPEN)]
        if when == "upcoming":
            found = sorted(
                (m for m in found if m.status == "scheduled" and m.ends_at and m.ends_at >= now),
                key=lambda m: m.starts_at or now,
            )
        elif when == "unscheduled":
            found = [m for m in found if m.status == "required"]
        else:
            found = [m for m in found if m.overdue]
        await _audit(session, principal, purpose, {m.platform_id for m in found})
    return found


@router.get("/cases/{platform_id}/meetings", response_model=list[MeetingSummary])
async def case_meetings(
    platform_id: str, principal: Caseworker, purpose: Purpose, db: Db, now: Now
) -> list[MeetingSummary]:
    """Every meeting of the case, required, scheduled, held or cancelled."""
    async with db.transaction() as session:
        if not await readable_case(session, principal, platform_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such case")
        found = [summary(m, now) for m in await MeetingStore(session).of_case(platform_id)]
        await _audit(session, principal, purpose, {platform_id})
    return found


@router.get("/meetings/{meeting_id}", response_model=MeetingView)
async def meeting(meeting_id: str, principal: Caseworker, purpose: Purpose, db: Db, now: Now) -> MeetingView:
    """One meeting with its attendees, minutes, risk management plan and actions."""
    async with db.transaction() as session:
        found = await readable_meeting(session, principal, meeting_id)
        view = await meeting_view(session, found, now)
        await _audit(session, principal, purpose, {found.platform_id})
    return view


@router.get("/meetings/{meeting_id}/invite.ics", response_class=Response)
async def invite(
    meeting_id: str, principal: Caseworker, purpose: Purpose, db: Db, now: Now, policies: Policies
) -> Response:
    """The meeting as an iCalendar object: METHOD:REQUEST while it stands, METHOD:CANCEL once cancelled."""
    async with db.transaction() as session:
        found = await readable_meeting(session, principal, meeting_id)
        if found.starts_at is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "the meeting is not scheduled yet")
        planning = Planning.reading(session, policies, now=now)
        ics = await planning.invite_of(found, "CANCEL" if found.status == "cancelled" else "REQUEST")
        await _audit(session, principal, purpose, {found.platform_id})
    method = "CANCEL" if found.status == "cancelled" else "REQUEST"
    return Response(ics, media_type=f"text/calendar; method={method}; charset=utf-8")


@router.get("/agencies/{agency}/actions", response_model=list[ActionView])
async def agency_actions(agency: str, principal: Caseworker, purpose: Purpose, db: Db) -> list[ActionView]:
    """The open actions an agency owns in the caller's area, earliest due first: for that agency's staff."""
    if principal.agency != agency:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "an agency's actions are for its own staff")
    async with db.transaction() as session:
        owned = await MeetingStore(session).open_actions(agency=agency, area=principal.area)
        # A Duty-to-Co-operate agency sees an action only while it may read the case.
        readable = {
            pid for pid in {a["platform_id"] for a in owned} if await readable_case(session, principal, pid)
        }
        found = [ActionView(**a) for a in owned if a["platform_id"] in readable]
        await _audit(session, principal, purpose, readable)
    return found


# Every audit record type meetings writes about a case: reads, and each step and its refusal.
_STEPS = ("schedule", "reschedule", "cancel", "invite", "uninvite", "minutes", "action-complete")
READS_OF_A_CASE = (
    RECORD,
    *(f"meeting-{step}" for step in _STEPS),
    *(f"meeting-{step}-refused" for step in _STEPS),
    "case-meetings-reads",
)


async def _area(session: AsyncSession, platform_id: str) -> str | None:
    case = await MeetingStore(session).case(platform_id)
    return None if case is None else case.area


add_audit_trail(
    router,
    "/cases/{platform_id}/meetings/reads",
    record_types=READS_OF_A_CASE,
    area_of=_area,
    not_found=HTTPException(status.HTTP_404_NOT_FOUND, "no such case"),
    description="Who read or acted on the case's meetings, when and why: for its area's auditors.",
)
