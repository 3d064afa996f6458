"""MAPPA meetings from tables: when the first and review meetings are due, chairs, times, minutes, actions.

Working days are England's: weekdays that are not bank holidays. The
Christmas rows are worked by hand from the 2026-27 calendar: Christmas Day
is a Friday, Boxing Day a Saturday (its bank holiday moves to Monday 28
December), New Year's Day 2027 a Friday; Good Friday 2027 is 26 March and
Easter Monday 29 March.
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from eventkit.errors import Refused
from eventkit.policy import load_policies
from schemas.agencies import Agency, Role
from services.meetings import rules
from services.meetings.policy import DEFAULTS, MeetingsPolicy
from services.meetings.rules import LONDON, Requirement

POLICY = load_policies(DEFAULTS, MeetingsPolicy).defaults

# accepted on, level sought -> the first meeting by (policy defaults: 5 working days for 3, 20 for 2)
FIRST_MEETINGS = [
    (date(2027, 2, 1), 3, date(2027, 2, 8)),  # an ordinary week: Monday to Monday
    (date(2026, 12, 24), 3, date(2027, 1, 5)),  # Christmas week: 29, 30, 31 Dec, 4, 5 Jan
    (date(2026, 12, 24), 2, date(2027, 1, 26)),
    (date(2027, 3, 24), 3, date(2027, 4, 2)),  # Easter: 25 Mar, then 30, 31 Mar, 1, 2 Apr
    (date(2027, 2, 6), 3, date(2027, 2, 12)),  # accepted on a Saturday: the week that follows
]


@pytest.mark.parametrize(("accepted_on", "level", "by"), FIRST_MEETINGS)
def test_the_first_meeting_is_due_within_the_policys_working_days(
    accepted_on: date, level: int, by: date
) -> None:
    assert rules.first_meeting_by(accepted_on, level, POLICY) == by  # type: ignore[arg-type]


def test_the_policy_says_its_defaults_and_an_area_may_change_them(tmp_path: Path) -> None:
    assert (POLICY.first_meeting_level_3_working_days, POLICY.first_meeting_level_2_working_days) == (5, 20)
    assert POLICY.minutes_working_days == 10
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULTS.read_text() + '\n[areas.62]\nnation = "wales"\nfirst_meeting_level_3_working_days = 3\n'
    )
    welsh = load_policies(policy, MeetingsPolicy).for_area("62")
    assert (welsh.nation, welsh.first_meeting_level_3_working_days, welsh.minutes_working_days) == (
        "wales",
        3,
        10,
    )
    # Monday 1 February 2027 plus 3 working days in Wales.
    assert rules.first_meeting_by(date(2027, 2, 1), 3, welsh) == date(2027, 2, 4)


def test_an_accepted_referral_requires_a_first_meeting() -> None:
    required = rules.on_referral_accepted(None, date(2027, 2, 1), 3, POLICY)
    assert required == Requirement("first", 3, date(2027, 2, 8))


def test_a_referral_for_level_3_brings_a_pending_level_2_meeting_forward() -> None:
    pending = Requirement("first", 2, date(2027, 3, 1))
    assert rules.on_referral_accepted(pending, date(2027, 2, 1), 3, POLICY) == Requirement(
        "first", 3, date(2027, 2, 8)
    )


def test_a_later_referral_leaves_a_sooner_meeting_alone() -> None:
    pending = Requirement("first", 3, date(2027, 2, 3))
    assert rules.on_referral_accepted(pending, date(2027, 2, 1), 2, POLICY) is None


def test_a_level_set_at_2_or_3_requires_a_review_meeting_by_the_review_date() -> None:
    assert rules.on_level(None, 3, date(2027, 4, 1)) == Requirement("review", 3, date(2027, 4, 1))
    assert rules.on_level(None, 2, date(2027, 6, 1)) == Requirement("review", 2, date(2027, 6, 1))


def test_a_pending_meeting_keeps_its_sooner_date_and_takes_the_new_level() -> None:
    pending = Requirement("first", 3, date(2027, 2, 8))
    assert rules.on_level(pending, 2, date(2027, 5, 1)) == Requirement("first", 2, date(2027, 2, 8))
    assert rules.on_level(pending, 3, date(2027, 5, 1)) is None  # nothing changes


def test_a_review_date_sooner_than_the_pending_meeting_brings_it_forward() -> None:
    pending = Requirement("review", 3, date(2027, 5, 1))
    assert rules.on_level(pending, 3, date(2027, 4, 1)) == Requirement("review", 3, date(2027, 4, 1))


def test_level_1_needs_no_meeting() -> None:
    assert rules.on_level(Requirement("review", 2, date(2027, 5, 1)), 1, date(2027, 5, 1)) is None
    assert rules.meeting_decision(1).required is False


CHAIRS = [
    (3, Role.SENIOR_OFFICER, None),
    (3, Role.MEETING_CHAIR, "a level 3 meeting is chaired by a senior officer"),
    (3, Role.MAPPA_COORDINATOR, "a level 3 meeting is chaired by a senior officer"),
    (2, Role.MEETING_CHAIR, None),
    (2, Role.SENIOR_OFFICER, None),
    (2, Role.OFFENDER_MANAGER, "a level 2 meeting is chaired by a meeting chair or a senior officer"),
]


@pytest.mark.parametrize(("level", "role", "refused"), CHAIRS)
def test_who_chairs(level: int, role: Role, refused: str | None) -> None:
    outcome = rules.may_chair(level, role)  # type: ignore[arg-type]
    assert outcome == (None if refused is None else Refused(refused, authority=True))


def test_london_wall_clock_times() -> None:
    # GMT in winter, BST in summer.
    assert rules.london(datetime(2027, 1, 12, 10, 0)) == datetime(2027, 1, 12, 10, 0, tzinfo=UTC)
    summer = rules.london(datetime(2027, 7, 12, 10, 0))
    assert isinstance(summer, datetime)
    assert summer.astimezone(UTC) == datetime(2027, 7, 12, 9, 0, tzinfo=UTC)
    # An offset given is taken as given.
    given = datetime(2027, 7, 12, 10, 0, tzinfo=UTC)
    assert rules.london(given) == given


def test_a_time_the_clocks_skip_or_repeat_is_refused() -> None:
    skipped = rules.london(datetime(2027, 3, 28, 1, 30))  # clocks go forward at 01:00 GMT
    assert isinstance(skipped, Refused)
    assert "does not exist" in skipped.reason
    repeated = rules.london(datetime(2026, 10, 25, 1, 30))  # clocks go back at 02:00 BST
    assert isinstance(repeated, Refused)
    assert "happens twice" in repeated.reason


NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
TIMES = [
    (NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2), None),
    (NOW + timedelta(days=1), NOW + timedelta(days=1), "the meeting must end after it starts"),
    (NOW - timedelta(hours=1), NOW + timedelta(hours=1), "the meeting must start in the future"),
    (
        NOW + timedelta(days=367),
        NOW + timedelta(days=367, hours=1),
        "a meeting is scheduled at most a year ahead",
    ),
    (
        datetime(2027, 2, 2, 23, 0, tzinfo=LONDON),
        datetime(2027, 2, 3, 1, 0, tzinfo=LONDON),
        "a meeting starts and ends on the same day (Europe/London)",
    ),
]


@pytest.mark.parametrize(("starts", "ends", "refused"), TIMES)
def test_meeting_times(starts: datetime, ends: datetime, refused: str | None) -> None:
    outcome = rules.meeting_times(starts, ends, NOW)
    assert outcome == (None if refused is None else Refused(refused))


def test_the_responsible_authority_always_attends_and_others_are_invited() -> None:
    assert rules.attendees([Agency.DWP, Agency.POLICE, Agency.DWP]) == [
        Agency.POLICE,
        Agency.PRISON,
        Agency.PROBATION,
        Agency.DWP,
    ]


# required by, the day it is scheduled for (None: not scheduled), held, today -> overdue
OVERDUE = [
    (date(2027, 2, 8), None, False, date(2027, 2, 8), False),  # on the day: not yet
    (date(2027, 2, 8), None, False, date(2027, 2, 9), True),
    (date(2027, 2, 8), date(2027, 2, 8), False, date(2027, 2, 9), False),  # scheduled in time
    (date(2027, 2, 8), date(2027, 2, 10), False, date(2027, 2, 9), True),  # scheduled too late
    (date(2027, 2, 8), None, True, date(2027, 3, 1), False),
]


@pytest.mark.parametrize(("required_by", "starts_on", "held", "today", "overdue"), OVERDUE)
def test_meeting_overdue(
    required_by: date, starts_on: date | None, held: bool, today: date, overdue: bool
) -> None:
    assert rules.meeting_overdue(required_by, starts_on, held, today) is overdue


def test_minutes_are_due_ten_working_days_after_the_meeting_across_christmas() -> None:
    # 18, 21, 22, 23, 24, 29, 30, 31 Dec, 4, 5 Jan.
    assert rules.minutes_due_by(date(2026, 12, 17), POLICY) == date(2027, 1, 5)
    assert not rules.minutes_overdue(
        date(2026, 12, 17), recorded=False, today=date(2027, 1, 5), policy=POLICY
    )
    assert rules.minutes_overdue(date(2026, 12, 17), recorded=False, today=date(2027, 1, 6), policy=POLICY)
    assert not rules.minutes_overdue(date(2026, 12, 17), recorded=True, today=date(2027, 2, 1), policy=POLICY)


def test_an_action_is_overdue_the_day_after_it_was_due_unless_completed() -> None:
    assert not rules.action_overdue(date(2027, 2, 8), completed=False, today=date(2027, 2, 8))
    assert rules.action_overdue(date(2027, 2, 8), completed=False, today=date(2027, 2, 9))
    assert not rules.action_overdue(date(2027, 2, 8), completed=True, today=date(2027, 2, 9))
