"""What meeting scheduling reads and writes."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.db import stage, upsert, utc
from services.meetings.rules import Kind, Level, MeetingDecision, MeetingLevel, Requirement, london_day
from services.meetings.tables import actions, attendees, cases, meeting_decisions, meetings, minutes

OPEN = ("required", "scheduled")


@dataclass(frozen=True)
class Case:
    platform_id: str
    area: str | None
    level: Level | None
    next_review_by: date | None
    closed: bool


@dataclass(frozen=True)
class Meeting:
    meeting_id: str
    platform_id: str
    level: MeetingLevel
    kind: Kind
    required_by: date
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    venue: str | None
    video_link: str | None
    chair_ref: str | None
    chair_role: str | None
    sequence: int
    cancel_reason: str | None

    @property
    def starts_on(self) -> date | None:
        """The day it takes (or took) place in London; None while it is not scheduled."""
        return london_day(self.starts_at) if self.starts_at else None

    @property
    def requirement(self) -> Requirement:
        return Requirement(self.kind, self.level, self.required_by)


@dataclass(frozen=True)
class Attendee:
    agency: str
    core: bool
    invited_on: date
    ended_on: date | None


def _meeting(row: Any) -> Meeting:
    values = dict(row._mapping)
    values["starts_at"] = values["starts_at"] and utc(values["starts_at"])
    values["ends_at"] = values["ends_at"] and utc(values["ends_at"])
    return Meeting(**values)


def _invitation_ended(_offered: Any) -> ColumnElement[bool]:
    # One function, not a lambda per call: the upsert is built once per condition and cached.
    return attendees.c.ended_on.is_not(None)


_PID: BindParameter[str] = bindparam("pid")
_MID: BindParameter[str] = bindparam("mid")
_CASE = select(cases).where(cases.c.platform_id == _PID)
# A meeting's row is taken from any other replica's transaction first (FOR UPDATE, on PostgreSQL): one
# meeting's steps, from its case's events and from people, apply one after another. Reads take no lock.
_PENDING = (
    select(meetings).where(meetings.c.platform_id == _PID, meetings.c.status.in_(OPEN)).with_for_update()
)
_MEETING = select(meetings).where(meetings.c.meeting_id == _MID)
_MEETING_TO_CHANGE = _MEETING.with_for_update()
_UPDATE_MEETING = meetings.update().where(meetings.c.meeting_id == _MID)


class MeetingStore:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- cases ---------------------------------------------------------------

    async def case(self, platform_id: str) -> Case | None:
        row = (await self._session.execute(_CASE, {"pid": platform_id})).first()
        return (
            None
            if row is None
            else Case(row.platform_id, row.area, row.level, row.next_review_by, row.closed)
        )

    async def set_case(self, platform_id: str, **values: Any) -> None:
        """Record what is known of the case; the columns not named keep what they had."""
        await self._session.execute(
            upsert(self._session, cases, tuple(values)),
            {"platform_id": platform_id, "closed": False, **values},
        )

    # --- meetings ------------------------------------------------------------

    async def pending(self, platform_id: str) -> Meeting | None:
        """The case's next meeting: required or scheduled, not yet held (at most one)."""
        row = (await self._session.execute(_PENDING, {"pid": platform_id})).first()
        return None if row is None else _meeting(row)

    async def meeting(self, meeting_id: str, *, to_change: bool = True) -> Meeting | None:
        query = _MEETING_TO_CHANGE if to_change else _MEETING
        row = (await self._session.execute(query, {"mid": meeting_id})).first()
        return None if row is None else _meeting(row)

    async def add_meeting(self, meeting_id: str, platform_id: str, required: Requirement) -> None:
        await self._session.execute(
            meetings.insert(),
            dict(
                meeting_id=meeting_id,
                platform_id=platform_id,
                level=required.level,
                kind=required.kind,
                required_by=required.required_by,
                status="required",
                sequence=0,
            ),
        )

    async def move(self, meeting_id: str, was: str, **values: Any) -> bool:
        """Update the meeting only if its status is still ``was``: of two steps taken at once on one
        meeting (a double click), the second finds it changed and does nothing."""
        result = await self._session.execute(
            meetings.update().where(meetings.c.meeting_id == meeting_id, meetings.c.status == was), values
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def update_meeting(self, meeting_id: str, **values: Any) -> None:
        await self._session.execute(_UPDATE_MEETING, {"mid": meeting_id, **values})

    async def of_case(self, platform_id: str) -> list[Meeting]:
        rows = await self._session.execute(
            select(meetings).where(meetings.c.platform_id == platform_id).order_by(meetings.c.required_by)
        )
        return [_meeting(row) for row in rows]

    async def of_area(self, area: str, statuses: tuple[str, ...]) -> list[Meeting]:
        rows = await self._session.execute(
            select(meetings)
            .join(cases, cases.c.platform_id == meetings.c.platform_id)
            .where(cases.c.area == area, meetings.c.status.in_(statuses))
            .order_by(meetings.c.required_by, meetings.c.meeting_id)
        )
        return [_meeting(row) for row in rows]

    async def required_before(self, day: date) -> list[Meeting]:
        """Meetings not yet held whose date is before ``day``: candidates for overdue."""
        rows = await self._session.execute(
            select(meetings).where(meetings.c.status.in_(OPEN), meetings.c.required_by < day)
        )
        return [_meeting(row) for row in rows]

    async def started_before(self, moment: datetime) -> list[Meeting]:
        """Scheduled meetings that have started and have no minutes yet."""
        rows = await self._session.execute(
            select(meetings).where(meetings.c.status == "scheduled", meetings.c.starts_at < moment)
        )
        return [_meeting(row) for row in rows]

    # --- attendees -----------------------------------------------------------

    async def attendees(self, meeting_id: str) -> list[Attendee]:
        rows = await self._session.execute(
            select(attendees).where(attendees.c.meeting_id == meeting_id).order_by(attendees.c.agency)
        )
        return [Attendee(r.agency, r.core, r.invited_on, r.ended_on) for r in rows]

    async def invite(self, meeting_id: str, platform_id: str, agency: str, *, core: bool, on: date) -> bool:
        """Ask ``agency``; False if it is asked already. An ended invitation starts again."""
        result = await self._session.execute(
            upsert(
                self._session,
                attendees,
                ("invited_on", "ended_on"),
                _invitation_ended,
            ),
            dict(
                meeting_id=meeting_id,
                agency=agency,
                platform_id=platform_id,
                core=core,
                invited_on=on,
                ended_on=None,
            ),
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def end_invitation(self, meeting_id: str, agency: str, on: date) -> bool:
        result = await self._session.execute(
            attendees.update()
            .where(
                attendees.c.meeting_id == meeting_id,
                attendees.c.agency == agency,
                attendees.c.ended_on.is_(None),
            )
            .values(ended_on=on)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def invited_agencies(self, platform_id: str) -> frozenset[str]:
        """Duty-to-Co-operate agencies with an invitation to one of the case's meetings that has not ended."""
        rows = await self._session.scalars(
            select(attendees.c.agency).where(
                attendees.c.platform_id == platform_id,
                attendees.c.core.is_(False),
                attendees.c.ended_on.is_(None),
            )
        )
        return frozenset(rows)

    # --- minutes and actions ---------------------------------------------------

    async def record_minutes(self, meeting_id: str, **values: Any) -> None:
        await self._session.execute(minutes.insert(), {"meeting_id": meeting_id, **values})

    async def level_refused(self, meeting_id: str, reason: str) -> None:
        await self._session.execute(
            minutes.update().where(minutes.c.meeting_id == meeting_id).values(level_refused=reason)
        )

    async def minutes(self, meeting_id: str) -> dict[str, Any] | None:
        row = (await self._session.execute(select(minutes).where(minutes.c.meeting_id == meeting_id))).first()
        return None if row is None else dict(row._mapping)

    async def add_action(self, **values: Any) -> None:
        await self._session.execute(actions.insert(), values)

    async def actions(self, meeting_id: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(actions)
            .where(actions.c.meeting_id == meeting_id)
            .order_by(actions.c.due_on, actions.c.action_id)
        )
        return [dict(row._mapping) for row in rows]

    async def action(self, action_id: str) -> dict[str, Any] | None:
        row = (await self._session.execute(select(actions).where(actions.c.action_id == action_id))).first()
        return None if row is None else dict(row._mapping)

    async def complete_action(self, action_id: str, on: date) -> bool:
        result = await self._session.execute(
            actions.update()
            .where(actions.c.action_id == action_id, actions.c.completed_on.is_(None))
            .values(completed_on=on)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open_actions(self, *, agency: str, area: str) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(actions)
            .join(cases, cases.c.platform_id == actions.c.platform_id)
            .where(actions.c.owner_agency == agency, cases.c.area == area, actions.c.completed_on.is_(None))
            .order_by(actions.c.due_on, actions.c.action_id)
        )
        return [dict(row._mapping) for row in rows]

    async def actions_due_before(self, day: date) -> list[dict[str, Any]]:
        rows = await self._session.execute(
            select(actions).where(actions.c.completed_on.is_(None), actions.c.due_on < day)
        )
        return [dict(row._mapping) for row in rows]

    # --- level 1 ------------------------------------------------------------

    def record_not_required(
        self, platform_id: str, level: int, decision: MeetingDecision, source_event_id: str
    ) -> None:
        # Nothing reads it back in the transaction: inserted with the batch's others as it commits.
        stage(
            self._session,
            meeting_decisions,
            dict(
                platform_id=platform_id,
                level=level,
                required=decision.required,
                reason=decision.reason,
                source_event_id=source_event_id,
                decided_at=datetime.now(UTC),
            ),
        )
