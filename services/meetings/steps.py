"""Meeting scheduling's steps, shared by platform events and the HTTP API: check the rules, store, emit.

A step the rules refuse returns ``Refused`` and changes nothing. Every
change of a scheduled meeting raises its SEQUENCE and publishes the
meeting's calendar object again, so attendees' calendars follow it.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from eventkit.authority import may_decide_level
from eventkit.clock import local_date
from eventkit.errors import Refused
from eventkit.outbox import Emitter
from eventkit.policy import AreaPolicies
from schemas.agencies import RESPONSIBLE_AUTHORITY, Agency, Role
from schemas.events import meetings as events
from schemas.events.casework import StaffRef
from services.meetings import invites, rules
from services.meetings.minutes import Minutes
from services.meetings.policy import MeetingsPolicy
from services.meetings.rules import Requirement
from services.meetings.storage import Meeting, MeetingStore

SOURCE = "/mappa/meetings"
# Another step on the same meeting committed first (a second click, say): nothing changes.
OVERTAKEN = Refused("the meeting changed meanwhile: look at it again")
Ended = Literal["level-lowered", "case-closed"]


@dataclass(frozen=True)
class Slot:
    """When and where a meeting takes place, and who chairs it."""

    starts_at: datetime
    ends_at: datetime
    venue: str | None
    video_link: str | None
    chair: StaffRef


class Planning:
    """Steps on a case's meetings, in one transaction, under the area policies the service runs with."""

    def __init__(
        self, work: Emitter, policies: AreaPolicies[MeetingsPolicy], *, now: datetime, today: date
    ) -> None:
        self._work = work
        self._policies = policies
        self.now = now
        self.today = today
        self.store = MeetingStore(work.session)

    @classmethod
    def reading(
        cls, session: AsyncSession, policies: AreaPolicies[MeetingsPolicy], *, now: datetime
    ) -> "Planning":
        """For reads (a meeting's calendar object): emits nothing."""
        return cls(Emitter(session, SOURCE), policies, now=now, today=local_date(now))

    async def policy(self, platform_id: str) -> MeetingsPolicy:
        case = await self.store.case(platform_id)
        return self._policies.for_area(case.area if case else None)

    @staticmethod
    def action_fields(action: dict[str, Any]) -> dict[str, Any]:
        """What an action's events say of it: ids, owner and date, never its wording."""
        fields = ("platform_id", "meeting_id", "action_id", "owner_agency", "owner_staff_ref", "due_on")
        return {name: action[name] for name in fields}

    async def _emit(self, data: Any, platform_id: str) -> None:
        await self._work.emit(data, key=platform_id)

    # --- what the register and levels say ----------------------------------------

    async def not_required(self, platform_id: str, level: int, reason: str) -> None:
        """Level 1: ordinary management by the lead agency, no MAPPA meeting."""
        await self._emit(
            events.MeetingNotRequired(platform_id=platform_id, level=level, reason=reason), platform_id
        )

    async def placed(self, platform_id: str, area: str | None) -> None:
        """The register placed the person in an area (a category, a transfer)."""
        if area is not None:
            await self.store.set_case(platform_id, area=area)

    async def referral_accepted(self, platform_id: str, level: rules.MeetingLevel, accepted_on: date) -> None:
        pending = await self.store.pending(platform_id)
        policy = await self.policy(platform_id)
        required = rules.on_referral_accepted(
            pending.requirement if pending else None, accepted_on, level, policy
        )
        await self._require(platform_id, pending, required)

    async def level_decided(self, platform_id: str, level: rules.Level, next_review_by: date) -> None:
        await self.store.set_case(platform_id, level=level, next_review_by=next_review_by)
        if level == 1:
            await self.ended(platform_id, "level-lowered")
            return
        pending = await self.store.pending(platform_id)
        required = rules.on_level(pending.requirement if pending else None, level, next_review_by)
        await self._require(platform_id, pending, required)

    async def merged(self, survivor: str, absorbed: str, level: rules.Level) -> None:
        """Another record's case merged into this one, at the higher level and the earlier review
        date (the absorbed case was closed just before, by its own event)."""
        cases = (await self.store.case(survivor), await self.store.case(absorbed))
        reviews = [c.next_review_by for c in cases if c is not None and c.next_review_by is not None]
        if reviews:
            await self.level_decided(survivor, level, min(reviews))
        else:
            await self.store.set_case(survivor, level=level)

    async def reopened(self, platform_id: str, level: rules.Level, managed: bool) -> None:
        """A merge undone: the case is back as it was; at level 2 or 3, due a meeting by its review date."""
        await self.store.set_case(platform_id, closed=False, level=level)
        case = await self.store.case(platform_id)
        if level == 1:
            await self.ended(platform_id, "level-lowered")
        elif managed and case is not None and case.next_review_by is not None:
            await self.level_decided(platform_id, level, case.next_review_by)

    async def level_refused(self, platform_id: str, meeting_id: str, reason: str) -> None:
        """Levels could not apply the meeting's decision: the minutes say why, and a case still at
        level 2 or 3 needs its next meeting by the review date levels last gave."""
        await self.store.level_refused(meeting_id, reason)
        case = await self.store.case(platform_id)
        if case is None or case.closed or case.level not in (2, 3) or case.next_review_by is None:
            return
        pending = await self.store.pending(platform_id)
        required = rules.on_level(pending.requirement if pending else None, case.level, case.next_review_by)
        await self._require(platform_id, pending, required)

    async def _require(self, platform_id: str, pending: Meeting | None, required: Requirement | None) -> None:
        if required is None:
            return
        if pending is None:
            meeting_id = f"m-{uuid.uuid4().hex}"
            await self.store.add_meeting(meeting_id, platform_id, required)
        else:
            meeting_id = pending.meeting_id
            relevelled = pending.status == "scheduled" and pending.level != required.level
            await self.store.update_meeting(
                meeting_id,
                level=required.level,
                kind=required.kind,
                required_by=required.required_by,
                sequence=pending.sequence + relevelled,
            )
            if relevelled:  # the invitation names the level: calendars follow
                await self._publish(meeting_id, events.MeetingRescheduled)
        await self._emit(
            events.MeetingRequired(
                platform_id=platform_id,
                meeting_id=meeting_id,
                level=required.level,
                kind=required.kind,
                required_by=required.required_by,
            ),
            platform_id,
        )

    async def ended(self, platform_id: str, reason: Ended) -> None:
        """The case left level 2 and 3 management: its next meeting is cancelled and invitations end."""
        if reason == "case-closed":
            await self.store.set_case(platform_id, closed=True)
        pending = await self.store.pending(platform_id)
        if pending is not None:
            await self._cancel(pending, reason)
        for meeting in await self.store.of_case(platform_id):
            await self._end_invitations(meeting, reason)

    # --- a co-ordinator's steps ----------------------------------------------------

    async def schedule(self, meeting: Meeting, slot: Slot, invited: list[Agency]) -> Refused | None:
        if meeting.status != "required":
            return Refused(f"the meeting is {meeting.status}: reschedule or cancel it instead")
        if refused := self._slot(meeting, slot):
            return refused
        if not await self._set_slot(meeting, slot, sequence=0, was="required"):
            return OVERTAKEN
        for agency in rules.attendees(invited):
            await self._ask(meeting, agency)
        await self._publish(meeting.meeting_id, events.MeetingScheduled)
        return None

    async def reschedule(self, meeting: Meeting, slot: Slot) -> Refused | None:
        if meeting.status != "scheduled":
            return Refused(f"the meeting is {meeting.status}: only a scheduled meeting is rescheduled")
        if refused := self._slot(meeting, slot):
            return refused
        if not await self._set_slot(meeting, slot, sequence=meeting.sequence + 1, was="scheduled"):
            return OVERTAKEN
        await self._publish(meeting.meeting_id, events.MeetingRescheduled)
        return None

    async def cancel(self, meeting: Meeting) -> Refused | None:
        """Cancel the meeting; the case still needs one, so a new one is required by the same date."""
        if meeting.status != "scheduled":
            return Refused(f"the meeting is {meeting.status}: only a scheduled meeting is cancelled")
        if not await self._cancel(meeting, "cancelled"):
            return OVERTAKEN
        await self._end_invitations(meeting, "meeting-cancelled")
        await self._require(meeting.platform_id, None, meeting.requirement)
        return None

    async def invite(self, meeting: Meeting, agency: Agency) -> Refused | None:
        if meeting.status not in ("required", "scheduled"):
            return Refused(f"the meeting is {meeting.status}")
        if agency in RESPONSIBLE_AUTHORITY:
            return Refused("the Responsible Authority attends every meeting: it is not invited")
        if not await self._ask(meeting, agency):
            return Refused(f"{agency} is invited already")
        if meeting.status == "scheduled":
            await self.store.update_meeting(meeting.meeting_id, sequence=meeting.sequence + 1)
            await self._publish(meeting.meeting_id, events.MeetingRescheduled)
        return None

    async def uninvite(self, meeting: Meeting, agency: Agency) -> Refused | None:
        if agency in RESPONSIBLE_AUTHORITY:
            return Refused("the Responsible Authority attends every meeting: it is not uninvited")
        if not await self.store.end_invitation(meeting.meeting_id, agency, self.today):
            return Refused(f"{agency} is not invited")
        await self._emit(
            events.AttendeeUninvited(
                platform_id=meeting.platform_id,
                meeting_id=meeting.meeting_id,
                agency=agency,
                reason="uninvited",
                ended_on=self.today,
            ),
            meeting.platform_id,
        )
        if meeting.status == "scheduled":
            await self.store.update_meeting(meeting.meeting_id, sequence=meeting.sequence + 1)
            await self._publish(meeting.meeting_id, events.MeetingRescheduled)
        return None

    # --- the chair's steps --------------------------------------------------------------

    async def record_minutes(self, meeting: Meeting, minutes: Minutes, by: StaffRef) -> Refused | None:
        """Minutes (MAPPA C) of a meeting that has started: it is held, its decision goes to levels."""
        if meeting.status != "scheduled":
            return Refused(f"the meeting is {meeting.status}: minutes are for a scheduled meeting")
        assert meeting.starts_at is not None
        if meeting.starts_at > self.now:
            return Refused("the meeting has not started yet")
        if not minutes.confidentiality_statement_read:
            return Refused("the MAPPA confidentiality statement (MAPPA D) is read at every meeting")
        # The chair recording the minutes decides in the role their token gives them; a co-ordinator
        # recording for them, in the role the meeting was scheduled with.
        chair = (
            by
            if by.staff_ref == meeting.chair_ref
            else StaffRef(
                staff_ref=meeting.chair_ref or by.staff_ref, role=Role(meeting.chair_role or by.role)
            )
        )
        authoriser = minutes.level_decision.authorised_by
        if refused := may_decide_level(
            minutes.level_decision.level, chair.role, authoriser.role if authoriser else None
        ):
            return refused
        held_on = rules.london_day(meeting.starts_at)
        if early := [a for a in minutes.actions if a.due_on < held_on]:
            return Refused(f"{len(early)} action(s) fall due before the meeting was held ({held_on})")
        await self.store.record_minutes(
            meeting.meeting_id,
            held_on=held_on,
            recorded_at=self.now,
            recorded_by=by.staff_ref,
            **minutes.stored(),
        )
        await self.store.update_meeting(meeting.meeting_id, status="held")
        for action in minutes.actions:
            row = dict(
                action_id=f"a-{uuid.uuid4().hex}",
                meeting_id=meeting.meeting_id,
                platform_id=meeting.platform_id,
                **action.model_dump(),
            )
            await self.store.add_action(**row)
            await self._emit(events.ActionAssigned(**self.action_fields(row)), meeting.platform_id)
        await self._emit(
            events.MinutesRecorded(
                platform_id=meeting.platform_id,
                meeting_id=meeting.meeting_id,
                held_on=held_on,
                recorded_on=self.today,
                attended=sum(1 for a in minutes.attendance if a.present),
                apologies=sum(1 for a in minutes.attendance if not a.present),
                actions=len(minutes.actions),
                level_decided=minutes.level_decision.level,
            ),
            meeting.platform_id,
        )
        await self._emit(
            events.MeetingLevelDecided(
                platform_id=meeting.platform_id,
                meeting_id=meeting.meeting_id,
                level=minutes.level_decision.level,
                decided_on=held_on,
                chair=chair,
                authorised_by=authoriser,
            ),
            meeting.platform_id,
        )
        return None

    async def complete_action(self, action: dict[str, Any]) -> Refused | None:
        if not await self.store.complete_action(action["action_id"], self.today):
            return Refused("the action is completed already")
        await self._emit(
            events.ActionCompleted(**self.action_fields(action), completed_on=self.today),
            action["platform_id"],
        )
        return None

    # --- the pieces ------------------------------------------------------------------

    def _slot(self, meeting: Meeting, slot: Slot) -> Refused | None:
        # The times themselves were checked with the request (422); the chair depends on the meeting.
        return rules.may_chair(meeting.level, slot.chair.role)

    async def _set_slot(self, meeting: Meeting, slot: Slot, *, sequence: int, was: str) -> bool:
        """Set the meeting's time and place if it is still ``was``; False if a step overtook this one."""
        return await self.store.move(
            meeting.meeting_id,
            was,
            status="scheduled",
            # In UTC: SQLite keeps a time's clock reading and drops its offset.
            starts_at=slot.starts_at.astimezone(UTC),
            ends_at=slot.ends_at.astimezone(UTC),
            venue=slot.venue,
            video_link=slot.video_link,
            chair_ref=slot.chair.staff_ref,
            chair_role=slot.chair.role,
            sequence=sequence,
        )

    async def _ask(self, meeting: Meeting, agency: Agency) -> bool:
        core = agency in RESPONSIBLE_AUTHORITY
        if not await self.store.invite(
            meeting.meeting_id, meeting.platform_id, agency, core=core, on=self.today
        ):
            return False
        if not core:
            await self._emit(
                events.AttendeeInvited(
                    platform_id=meeting.platform_id,
                    meeting_id=meeting.meeting_id,
                    agency=agency,
                    invited_on=self.today,
                ),
                meeting.platform_id,
            )
        return True

    async def invite_of(self, meeting: Meeting, method: invites.Method) -> str:
        """The meeting's calendar object as it stands: a request, or a cancellation."""
        assert meeting.starts_at is not None
        assert meeting.ends_at is not None
        policy = await self.policy(meeting.platform_id)
        agencies = tuple(
            a.agency for a in await self.store.attendees(meeting.meeting_id) if a.ended_on is None
        )
        return invites.build(
            invites.Invite(
                meeting_id=meeting.meeting_id,
                platform_id=meeting.platform_id,
                level=meeting.level,
                sequence=meeting.sequence,
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                venue=meeting.venue,
                video_link=meeting.video_link,
                organizer=policy.calendar_organizer,
                agencies=agencies,
            ),
            method,
            stamp=self.now,
        )

    async def _publish(
        self, meeting_id: str, event: type[events.MeetingScheduled] | type[events.MeetingRescheduled]
    ) -> None:
        meeting = await self.store.meeting(meeting_id)
        assert meeting is not None
        assert meeting.starts_at is not None
        assert meeting.ends_at is not None
        assert meeting.chair_role is not None
        agencies = [a.agency for a in await self.store.attendees(meeting_id) if a.ended_on is None]
        await self._emit(
            event(
                platform_id=meeting.platform_id,
                meeting_id=meeting_id,
                level=meeting.level,
                starts_at=meeting.starts_at,
                ends_at=meeting.ends_at,
                sequence=meeting.sequence,
                chair_role=Role(meeting.chair_role),
                attendee_agencies=agencies,
                ics=await self.invite_of(meeting, "REQUEST"),
            ),
            meeting.platform_id,
        )

    async def _cancel(
        self, meeting: Meeting, reason: Literal["cancelled", "level-lowered", "case-closed"]
    ) -> bool:
        """Cancel the meeting if it is as ``meeting`` says; False if another step changed it first."""
        scheduled = meeting.status == "scheduled"
        sequence = meeting.sequence + 1 if scheduled else meeting.sequence
        if not await self.store.move(
            meeting.meeting_id, meeting.status, status="cancelled", cancel_reason=reason, sequence=sequence
        ):
            return False
        ics = None
        if scheduled:
            cancelled = await self.store.meeting(meeting.meeting_id)
            assert cancelled is not None
            ics = await self.invite_of(cancelled, "CANCEL")
        await self._emit(
            events.MeetingCancelled(
                platform_id=meeting.platform_id,
                meeting_id=meeting.meeting_id,
                level=meeting.level,
                reason=reason,
                sequence=sequence,
                ics=ics,
            ),
            meeting.platform_id,
        )
        return True

    async def _end_invitations(
        self, meeting: Meeting, reason: Literal["meeting-cancelled", "level-lowered", "case-closed"]
    ) -> None:
        for attendee in await self.store.attendees(meeting.meeting_id):
            if attendee.core or attendee.ended_on is not None:
                continue
            await self.store.end_invitation(meeting.meeting_id, attendee.agency, self.today)
            await self._emit(
                events.AttendeeUninvited(
                    platform_id=meeting.platform_id,
                    meeting_id=meeting.meeting_id,
                    agency=attendee.agency,
                    reason=reason,
                    ended_on=self.today,
                ),
                meeting.platform_id,
            )
