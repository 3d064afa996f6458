"""MAPPA levels (MAPPA Guidance ch.7) from tables: screening, referrals, decisions, reviews and triggers."""

from datetime import date
from pathlib import Path

import pytest

from eventkit.calendar import add_working_days, is_working_day, subtract_working_days
from eventkit.errors import Refused
from eventkit.policy import load_policies
from schemas.agencies import Role
from services.levels.policy import DEFAULTS, LevelsPolicy
from services.levels.reviews import next_review, review_interval_weeks, review_stage
from services.levels.rules import (
    CaseLevel,
    Decision,
    decide_level,
    may_decide_referral,
    may_refer,
    may_screen,
    screen,
)
from services.levels.triggers import needs_release_screening, serious_case_review_by, should_consider_referral

POLICIES = load_policies(DEFAULTS, LevelsPolicy)
POLICY = POLICIES.defaults
PENDING = CaseLevel(level=1, status="pending-screening")
LEVEL_1 = CaseLevel(level=1, status="managed")
LEVEL_2 = CaseLevel(level=2, status="managed")
LEVEL_3 = CaseLevel(level=3, status="managed")
CLOSED = CaseLevel(level=1, status="closed")

# level, lead agency -> weeks between reviews (policy defaults: ch.7 for 2 and 3; lead agency for 1)
REVIEW_INTERVALS = [
    (3, "probation", 8),
    (2, "police", 16),
    (1, "police", 52),
    (1, "probation", 26),
    (1, "prison", 26),
    # Not knowing the lead agency never delays a review: the shortest level 1 interval.
    (1, None, 26),
]


@pytest.mark.parametrize(("level", "lead_agency", "weeks"), REVIEW_INTERVALS)
def test_review_intervals_from_the_policy_defaults(level: int, lead_agency: str | None, weeks: int) -> None:
    assert review_interval_weeks(level, lead_agency, POLICY) == weeks  # type: ignore[arg-type]


def test_an_area_overrides_its_intervals_and_keeps_the_other_defaults(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULTS.read_text()
        + '\n[areas.62]\nnation = "wales"\nlevel_3_review_weeks = 6\n'
        + "\n[areas.62.level_1_review_weeks]\npolice = 26\n"
    )
    policies = load_policies(policy, LevelsPolicy)
    welsh = policies.for_area("62")
    assert (welsh.nation, welsh.level_3_review_weeks, welsh.level_2_review_weeks) == ("wales", 6, 16)
    # One lead agency's level 1 interval changed; the others are the defaults still.
    assert welsh.level_1_review_weeks == {"police": 26, "probation": 26, "prison": 26}
    assert policies.for_area("01") == POLICY
    assert next_review(date(2027, 1, 4), 3, "police", welsh) == date(2027, 2, 15)
    assert next_review(date(2027, 1, 4), 3, "police", POLICY) == date(2027, 3, 1)


# date, nation -> working day? (England and Wales bank holidays, from the holidays library)
WORKING_DAYS = [
    (date(2026, 12, 25), "england", False),  # Christmas Day
    (date(2026, 12, 28), "england", False),  # Boxing Day (a Saturday) substituted
    (date(2026, 12, 29), "england", True),
    (date(2027, 3, 26), "wales", False),  # Good Friday
    (date(2027, 3, 29), "wales", False),  # Easter Monday
    (date(2027, 5, 31), "england", False),  # spring bank holiday
    (date(2027, 8, 30), "wales", False),  # summer bank holiday
    (date(2027, 1, 2), "england", False),  # a Saturday
]


@pytest.mark.parametrize(("day", "nation", "working"), WORKING_DAYS)
def test_working_days_skip_weekends_and_bank_holidays(day: date, nation: str, working: bool) -> None:
    assert is_working_day(day, nation) is working  # type: ignore[arg-type]


# start, working days, nation -> the day counted to
ADDED = [
    (date(2026, 12, 23), 5, "england", date(2027, 1, 4)),  # over Christmas and New Year
    (date(2027, 3, 25), 1, "wales", date(2027, 3, 30)),  # over Easter
    (date(2027, 3, 25), 0, "wales", date(2027, 3, 25)),
    (date(2027, 6, 4), 5, "england", date(2027, 6, 11)),  # a plain week
]


@pytest.mark.parametrize(("start", "days", "nation", "end"), ADDED)
def test_adding_working_days(start: date, days: int, nation: str, end: date) -> None:
    assert add_working_days(start, days, nation) == end  # type: ignore[arg-type]
    assert subtract_working_days(end, days, nation) == start  # type: ignore[arg-type]


def test_a_review_falls_due_ten_working_days_ahead_and_is_overdue_the_day_after() -> None:
    review_by = date(2027, 1, 8)
    # Ten working days back from 8 January skips Christmas, Boxing Day and New Year's Day.
    assert review_stage(review_by, date(2026, 12, 21), POLICY) is None
    assert review_stage(review_by, date(2026, 12, 22), POLICY) == "due"
    assert review_stage(review_by, review_by, POLICY) == "due"
    assert review_stage(review_by, date(2027, 1, 9), POLICY) == "overdue"


def test_serious_case_review_within_five_working_days() -> None:
    assert serious_case_review_by(date(2026, 12, 23), POLICY) == date(2027, 1, 4)


def test_level_3_needs_a_senior_officer() -> None:
    refused = decide_level(
        LEVEL_2,
        3,
        decided_by=Role.MAPPA_COORDINATOR,
        authorised_by=None,
        accepted_referral_level=3,
        confirmed=True,
    )
    assert refused == Refused("a level 3 decision needs a senior officer's authorisation", authority=True)
    for decided_by, authorised_by in [
        (Role.SENIOR_OFFICER, None),
        (Role.MAPPA_COORDINATOR, Role.SENIOR_OFFICER),
    ]:
        assert decide_level(
            LEVEL_2,
            3,
            decided_by=decided_by,
            authorised_by=authorised_by,
            accepted_referral_level=3,
            confirmed=True,
        ) == Decision(3, 2, "raised")


# case, level, accepted referral level, confirmed -> decision kind, or the refusal's words
DECISIONS: list[tuple[CaseLevel, int, int | None, bool, str]] = [
    (LEVEL_1, 2, 2, True, "raised"),
    (LEVEL_1, 2, 3, True, "raised"),  # a referral for 3 accepted at 2
    (LEVEL_1, 2, None, True, "needs an accepted referral"),
    (LEVEL_1, 3, 2, True, "needs an accepted referral"),
    (LEVEL_3, 2, None, True, "lowered"),  # lowering needs no referral
    (LEVEL_2, 1, None, True, "lowered"),
    (LEVEL_2, 2, None, True, "confirmed"),  # at review
    (PENDING, 1, None, False, "set"),
    (CLOSED, 1, None, True, "the case is closed"),
]


@pytest.mark.parametrize(("case", "level", "accepted", "confirmed", "expected"), DECISIONS)
def test_level_decisions(
    case: CaseLevel, level: int, accepted: int | None, confirmed: bool, expected: str
) -> None:
    outcome = decide_level(
        case,
        level,  # type: ignore[arg-type]
        decided_by=Role.SENIOR_OFFICER,
        authorised_by=None,
        accepted_referral_level=accepted,
        confirmed=confirmed,
    )
    if isinstance(outcome, Refused):
        assert expected in outcome.reason
    else:
        assert outcome.kind == expected


def test_only_deciding_roles_decide_levels_and_only_the_coordinator_decides_referrals() -> None:
    refused = decide_level(
        LEVEL_1,
        1,
        decided_by=Role.OFFENDER_MANAGER,
        authorised_by=None,
        accepted_referral_level=None,
        confirmed=True,
    )
    assert isinstance(refused, Refused)
    assert refused.authority


COORDINATOR = Role.MAPPA_COORDINATOR
# case, referral status, level sought, decided by, accepting -> None or the refusal
REFERRAL_DECISIONS: list[tuple[CaseLevel, str, int, Role, bool, Refused | None]] = [
    (LEVEL_1, "open", 3, COORDINATOR, True, None),
    (LEVEL_1, "open", 3, COORDINATOR, False, None),
    (
        LEVEL_1,
        "open",
        3,
        Role.SENIOR_OFFICER,
        True,
        Refused("referrals are accepted or declined by the MAPPA co-ordinator", authority=True),
    ),
    (LEVEL_1, "accepted", 3, COORDINATOR, True, Refused("the referral is accepted already")),
    (LEVEL_1, "withdrawn", 3, COORDINATOR, False, Refused("the referral is withdrawn already")),
    # The case reached the level sought meanwhile: decline, do not accept.
    (LEVEL_2, "open", 2, COORDINATOR, True, Refused("the case is at level 2 already: decline the referral")),
    (LEVEL_2, "open", 2, COORDINATOR, False, None),
    (CLOSED, "open", 3, COORDINATOR, False, Refused("the case is closed")),
]


@pytest.mark.parametrize(("case", "status", "sought", "by", "accepting", "expected"), REFERRAL_DECISIONS)
def test_referral_decisions(
    case: CaseLevel, status: str, sought: int, by: Role, accepting: bool, expected: Refused | None
) -> None:
    assert may_decide_referral(case, status, sought, by, accepting=accepting) == expected  # type: ignore[arg-type]


def test_the_lead_agency_screens_or_any_responsible_authority_agency_while_none_is_known() -> None:
    assert may_screen("probation", "probation") is None
    assert may_screen(None, "police") is None
    assert may_screen("probation", "police") == Refused(
        "the lead agency (probation) screens this case", authority=True
    )


SCREENINGS: list[tuple[CaseLevel, str, int | None, CaseLevel | str]] = [
    (PENDING, "level-1", None, LEVEL_1),
    (PENDING, "referral", 3, LEVEL_1),  # level 1 while the referral is decided
    (PENDING, "referral", None, "names the level sought"),
    (LEVEL_1, "level-1", None, "screened already"),
    (CLOSED, "level-1", None, "closed"),
]


@pytest.mark.parametrize(("case", "outcome", "sought", "expected"), SCREENINGS)
def test_screening(case: CaseLevel, outcome: str, sought: int | None, expected: CaseLevel | str) -> None:
    result = screen(case, outcome, sought)  # type: ignore[arg-type]
    if isinstance(expected, str):
        assert isinstance(result, Refused)
        assert expected in result.reason
    else:
        assert result == expected


def test_referrals_seek_a_higher_level_of_an_open_case() -> None:
    assert may_refer(LEVEL_1, 2) is None
    assert may_refer(LEVEL_2, 3) is None
    assert may_refer(LEVEL_2, 2) == Refused("the case is at level 2 already")
    assert may_refer(CLOSED, 3) == Refused("the case is closed")


# status, confirmed, release date, today -> alert?  (window: 6 months)
RELEASES = [
    (LEVEL_1, False, date(2027, 6, 1), date(2026, 12, 1), True),
    (LEVEL_1, False, date(2027, 6, 2), date(2026, 12, 1), False),  # more than 6 months away
    (LEVEL_1, True, date(2027, 1, 10), date(2026, 12, 1), False),  # level confirmed
    (PENDING, False, date(2026, 11, 30), date(2026, 12, 1), False),  # released already
    (CLOSED, False, date(2027, 1, 10), date(2026, 12, 1), False),
]


@pytest.mark.parametrize(("case", "confirmed", "release", "today", "alert"), RELEASES)
def test_release_screening_window(
    case: CaseLevel, confirmed: bool, release: date, today: date, alert: bool
) -> None:
    assert (
        needs_release_screening(case, confirmed=confirmed, release_date=release, today=today, policy=POLICY)
        is alert
    )


# case, previous RoSH, new RoSH -> consider referral?
ROSH = [
    (LEVEL_1, "medium", "high", True),
    (LEVEL_1, None, "very-high", True),
    (LEVEL_1, "high", "very-high", False),  # was high already: considered then
    (LEVEL_2, "medium", "high", False),  # managed above level 1
    (LEVEL_1, "low", "medium", False),
]


@pytest.mark.parametrize(("case", "previous", "rosh", "consider"), ROSH)
def test_consider_referral_when_rosh_rises_to_high_at_level_1(
    case: CaseLevel, previous: str | None, rosh: str, consider: bool
) -> None:
    assert should_consider_referral(case, previous, rosh) is consider
