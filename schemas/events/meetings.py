"""Events published by meeting scheduling on ``meetings.schedule.v1``.

Keyed by platform id. They carry ids, dates, times, roles and counts only:
minutes, the risk management plan and actions' wording stay in the meetings
service, behind its audited API. Invitations, changes and cancellations carry
the meeting's iCalendar object (a case reference and the level, nothing
about the person) for notifications to send on.
"""

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from schemas.agencies import Agency, Role
from schemas.contract import Contract
from schemas.events.casework import StaffRef
from schemas.events.common import PlatformId

MeetingLevel = Literal[2, 3]
MeetingId = Annotated[str, Field(min_length=1, max_length=64, description="The meeting's id")]
ActionId = Annotated[str, Field(min_length=1, max_length=64, description="The action's id")]
Ics = Annotated[
    str, Field(min_length=1, max_length=20_000, description="The meeting as an iCalendar (RFC 5545) object")
]


class MeetingNotRequired(Contract):
    """No MAPPA meeting is needed: the lead agency manages the case alone."""

    EVENT_NAME: ClassVar[str] = "meeting-not-required"

    platform_id: str = Field(min_length=1, max_length=64)
    level: Literal[1, 2, 3]
    reason: str = Field(min_length=1, max_length=300)


class MeetingRequired(Contract):
    """A level 2 or 3 meeting must be held by ``required_by``: the first one, or a review."""

    EVENT_NAME: ClassVar[str] = "meeting-required"

    platform_id: PlatformId
    meeting_id: MeetingId
    level: MeetingLevel
    kind: Literal["first", "review"]
    required_by: date


class _Timed(Contract):
    platform_id: PlatformId
    meeting_id: MeetingId
    level: MeetingLevel
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    sequence: int = Field(ge=0, description="The iCalendar SEQUENCE: raised on every change")
    chair_role: Role
    attendee_agencies: list[Agency] = Field(min_length=1)
    ics: Ics


class MeetingScheduled(_Timed):
    """The co-ordinator scheduled the meeting."""

    EVENT_NAME: ClassVar[str] = "meeting-scheduled"


class MeetingRescheduled(_Timed):
    """The meeting moved, or its place, chair or attendees changed."""

    EVENT_NAME: ClassVar[str] = "meeting-rescheduled"


class MeetingCancelled(Contract):
    """The meeting will not take place: cancelled by the co-ordinator, or the case no longer needs it."""

    EVENT_NAME: ClassVar[str] = "meeting-cancelled"

    platform_id: PlatformId
    meeting_id: MeetingId
    level: MeetingLevel
    reason: Literal["cancelled", "level-lowered", "case-closed"]
    sequence: int = Field(ge=0)
    ics: Ics | None = Field(default=None, description="METHOD:CANCEL, for a meeting that had been scheduled")


class MeetingOverdue(Contract):
    """A required meeting was not scheduled to take place by its date."""

    EVENT_NAME: ClassVar[str] = "meeting-overdue"

    platform_id: PlatformId
    meeting_id: MeetingId
    level: MeetingLevel
    required_by: date


class _Invitation(Contract):
    platform_id: PlatformId
    meeting_id: MeetingId
    agency: Agency


class AttendeeInvited(_Invitation):
    """A Duty-to-Co-operate agency is invited: it may read the case while the invitation lasts."""

    EVENT_NAME: ClassVar[str] = "attendee-invited"

    invited_on: date


class AttendeeUninvited(_Invitation):
    """An agency's invitation ended: it no longer reads the case through this meeting."""

    EVENT_NAME: ClassVar[str] = "attendee-uninvited"

    reason: Literal["uninvited", "meeting-cancelled", "level-lowered", "case-closed"]
    ended_on: date


class MinutesRecorded(Contract):
    """The chair recorded the meeting's minutes (MAPPA C): counts here, content behind the API."""

    EVENT_NAME: ClassVar[str] = "minutes-recorded"

    platform_id: PlatformId
    meeting_id: MeetingId
    held_on: date
    recorded_on: date
    attended: int = Field(ge=0)
    apologies: int = Field(ge=0)
    actions: int = Field(ge=0)
    level_decided: Literal[1, 2, 3]


class MinutesOverdue(Contract):
    """The meeting's minutes were not recorded within the area's window."""

    EVENT_NAME: ClassVar[str] = "minutes-overdue"

    platform_id: PlatformId
    meeting_id: MeetingId
    held_on: date
    due_by: date
    chair_role: Role


class _Action(Contract):
    platform_id: PlatformId
    meeting_id: MeetingId
    action_id: ActionId
    owner_agency: Agency
    owner_staff_ref: str = Field(min_length=1, max_length=64, description="Opaque staff reference")
    due_on: date


class ActionAssigned(_Action):
    """An action from the meeting's risk management plan, owned by an agency."""

    EVENT_NAME: ClassVar[str] = "action-assigned"


class ActionCompleted(_Action):
    EVENT_NAME: ClassVar[str] = "action-completed"

    completed_on: date


class ActionOverdue(_Action):
    EVENT_NAME: ClassVar[str] = "action-overdue"


class MeetingLevelDecided(Contract):
    """The meeting decided the case's level: casework for levels, which owns levels.

    The rationale is in the meeting's minutes, behind the meetings API.
    """

    EVENT_NAME: ClassVar[str] = "meeting-level-decided"

    platform_id: PlatformId
    meeting_id: MeetingId
    level: Literal[1, 2, 3]
    decided_on: date
    chair: StaffRef
    authorised_by: StaffRef | None = None
