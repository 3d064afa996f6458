"""When MAPPA meetings are required, who chairs them, when minutes and actions fall due. Pure, no I/O.

| rule | value | source |
|---|---|---|
| level 1 | no MAPPA meeting: the lead agency manages the case | Guidance ch.7 |
| first level 3 meeting | within 5 working days of the referral's acceptance | policy default |
| first level 2 meeting | within 20 working days of the referral's acceptance | policy default |
| review meeting | held by the next review date levels publishes | Guidance ch.7 (8 / 16 weeks) |
| lowered to level 1, or closed | the next meeting is cancelled | Guidance ch.7 |
| chair, level 3 | a senior officer, who can commit special resources | Guidance ch.13 |
| chair, level 2 | a meeting chair or a senior officer | Guidance ch.13 |
| core attendees | the Responsible Authority: police, prison, probation | CJA 2003 s.325 |
| other attendees | Duty-to-Co-operate agencies, invited per meeting | CJA 2003 s.325(3) |
| victims | never attend; the Victim Liaison Officer gives their views | Guidance ch.13 |
| minutes | circulated within 10 working days of the meeting | policy default (1) |
| actions | each with an owning agency, a member of staff and a due date | Guidance ch.13 |

(1) The guidance asks only for minutes "accurate and distributed in a timely
manner"; the number of days is the area's choice (``policy.toml``).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from eventkit.calendar import add_working_days
from eventkit.errors import Refused
from schemas.agencies import RESPONSIBLE_AUTHORITY, Agency, Role
from services.meetings.policy import MeetingsPolicy

Level = Literal[1, 2, 3]
MeetingLevel = Literal[2, 3]
Kind = Literal["first", "review"]
LONDON = ZoneInfo("Europe/London")
CORE_AGENCIES: tuple[Agency, ...] = tuple(sorted(RESPONSIBLE_AUTHORITY))
CHAIRS: dict[int, frozenset[Role]] = {
    2: frozenset({Role.MEETING_CHAIR, Role.SENIOR_OFFICER}),
    3: frozenset({Role.SENIOR_OFFICER}),
}


@dataclass(frozen=True)
class MeetingDecision:
    required: bool
    reason: str


def meeting_decision(level: int) -> MeetingDecision:
    if level == 1:
        return MeetingDecision(
            required=False,
            reason="Level 1: ordinary agency management by the lead agency, no MAPPA meeting",
        )
    return MeetingDecision(
        required=True,
        reason=f"Level {level}: active multi-agency management through MAPPA meetings",
    )


@dataclass(frozen=True)
class Requirement:
    """The case's next meeting: which kind, at what level, held by when."""

    kind: Kind
    level: MeetingLevel
    required_by: date


def first_meeting_by(accepted_on: date, level: MeetingLevel, policy: MeetingsPolicy) -> date:
    """The last day for the first meeting after a referral for ``level`` was accepted on ``accepted_on``."""
    return add_working_days(accepted_on, policy.first_meeting_working_days(level), policy.nation)


def on_referral_accepted(
    pending: Requirement | None, accepted_on: date, level: MeetingLevel, policy: MeetingsPolicy
) -> Requirement | None:
    """The requirement after a referral is accepted; None when the pending one already asks for sooner."""
    by = first_meeting_by(accepted_on, level, policy)
    if pending is not None and pending.required_by <= by and pending.level >= level:
        return None
    if pending is not None:
        return Requirement(pending.kind, max(pending.level, level), min(pending.required_by, by))
    return Requirement("first", level, by)


def on_level(pending: Requirement | None, level: Level, next_review_by: date) -> Requirement | None:
    """The requirement after levels set, confirmed, raised or lowered the case's level.

    At level 2 or 3 the case is reviewed at a meeting held by its next review
    date: a pending meeting takes that date if it is sooner than its own.
    Level 1 needs none (the caller cancels what is pending). None when
    nothing changes.
    """
    if level == 1:
        return None
    if pending is None:
        return Requirement("review", level, next_review_by)
    changed = Requirement(pending.kind, level, min(pending.required_by, next_review_by))
    return None if changed == pending else changed


def may_chair(level: MeetingLevel, role: Role) -> Refused | None:
    if role in CHAIRS[level]:
        return None
    if level == 3:
        return Refused("a level 3 meeting is chaired by a senior officer", authority=True)
    return Refused("a level 2 meeting is chaired by a meeting chair or a senior officer", authority=True)


# How far ahead a meeting may be scheduled: a review is due at least every 16 weeks.
HORIZON = timedelta(days=366)


def meeting_times(starts: datetime, ends: datetime, now: datetime) -> Refused | None:
    """A meeting starts in the future, within a year, and ends after it starts, the same day in London."""
    if starts.tzinfo is None or ends.tzinfo is None:
        return Refused("times must carry their UTC offset or be given as Europe/London")
    if ends <= starts:
        return Refused("the meeting must end after it starts")
    if starts <= now:
        return Refused("the meeting must start in the future")
    if starts - now > HORIZON:
        return Refused("a meeting is scheduled at most a year ahead")
    if starts.astimezone(LONDON).date() != ends.astimezone(LONDON).date():
        return Refused("a meeting starts and ends on the same day (Europe/London)")
    return None


def london_day(moment: datetime) -> date:
    return moment.astimezone(LONDON).date()


def london(local: datetime) -> datetime | Refused:
    """A wall-clock time in London as an aware time; one the clocks skip or repeat is refused.

    An aware time is taken as given. A naive one is Europe/London; in the
    hour the clocks go forward it does not exist, and in the hour they go
    back it happens twice, so it must then be given with its offset.
    """
    if local.tzinfo is not None:
        return local
    first = local.replace(tzinfo=LONDON, fold=0)
    second = local.replace(tzinfo=LONDON, fold=1)
    # A time in the gap does not come back from UTC unchanged; one in the overlap has two offsets.
    if first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local:
        return Refused(f"{local.isoformat()} does not exist in London: the clocks go forward")
    if first.utcoffset() != second.utcoffset():
        return Refused(f"{local.isoformat()} happens twice in London as the clocks go back: give the offset")
    return first


def attendees(invited: list[Agency]) -> list[Agency]:
    """Who is asked: the Responsible Authority always, and the Duty-to-Co-operate agencies invited."""
    return [*CORE_AGENCIES, *sorted(set(invited) - RESPONSIBLE_AUTHORITY)]


def meeting_overdue(required_by: date, starts_on: date | None, held: bool, today: date) -> bool:
    """Past its date and neither held nor scheduled to take place by then."""
    if held or today <= required_by:
        return False
    return starts_on is None or starts_on > required_by


def minutes_due_by(held_on: date, policy: MeetingsPolicy) -> date:
    return add_working_days(held_on, policy.minutes_working_days, policy.nation)


def minutes_overdue(held_on: date, recorded: bool, today: date, policy: MeetingsPolicy) -> bool:
    return not recorded and today > minutes_due_by(held_on, policy)


def action_overdue(due_on: date, completed: bool, today: date) -> bool:
    return not completed and today > due_on
