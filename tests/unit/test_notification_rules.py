"""Notification requirements from the Sexual Offences Act 2003 Part 2, in its own words."""

from datetime import date

import pytest

from services.registry.notification_rules import (
    Disposal,
    NotificationPeriod,
    NotificationState,
    Requirement,
    aggregate_term,
    change_deadline,
    compliance,
    foreign_travel_deadline,
    longer,
    next_deadline,
    notification_period,
    periodic_deadline,
    starts_afresh,
)

INDEFINITE = None

# s.82(1) and (2): (disposal, custody months, discharge months, under 18) -> period in months
PERIOD_TABLE: list[tuple[Disposal, int | None, int | None, bool, int | None]] = [
    ("life-sentence", None, None, False, INDEFINITE),
    ("imprisonment-for-public-protection", None, None, False, INDEFINITE),
    ("hospital-order-with-restriction", None, None, False, INDEFINITE),
    ("custody", 30, None, False, INDEFINITE),  # exactly 30 months: indefinite
    ("custody", 31, None, True, INDEFINITE),  # indefinite is never halved
    ("custody", 29, None, False, 120),  # more than 6, less than 30: 10 years
    ("custody", 7, None, False, 120),
    ("custody", 6, None, False, 84),  # exactly 6 months: 7 years
    ("custody", 1, None, False, 84),
    ("suspended-sentence", 12, None, False, 120),  # a suspended sentence is imprisonment for its term
    ("detention-and-training-order", 6, None, True, 42),  # 7 years halved: 3 years 6 months
    ("hospital-order", None, None, False, 84),
    ("hospital-order", None, None, True, 42),
    ("caution", None, None, False, 24),
    ("caution", None, None, True, 12),
    ("community-order", None, None, False, 60),  # any other disposal: 5 years
    ("fine", None, None, True, 30),  # 5 years halved
    ("guardianship-order", None, None, False, 60),
    ("conditional-discharge", None, 18, False, 18),  # the discharge's length
    ("conditional-discharge", None, 18, True, 18),  # not halved: s.82(2) names only fixed periods
    ("custody", 29, None, True, 60),  # 10 years halved
]


@pytest.mark.parametrize(("disposal", "custody", "discharge", "under_18", "months"), PERIOD_TABLE)
def test_notification_period(
    disposal: Disposal, custody: int | None, discharge: int | None, under_18: bool, months: int | None
) -> None:
    period = notification_period(
        disposal, custody_months=custody, discharge_months=discharge, under_18=under_18
    )
    assert period.months == months
    assert period.basis.startswith("s.82")


def test_a_conditional_discharge_needs_its_length() -> None:
    with pytest.raises(ValueError, match="length"):
        notification_period(
            "conditional-discharge", custody_months=None, discharge_months=None, under_18=False
        )


def _requirement(
    months: int | None, relevant: date = date(2026, 3, 10), under_18: bool = False
) -> Requirement:
    return Requirement(relevant_date=relevant, period=NotificationPeriod(months, "s.82"), under_18=under_18)


@pytest.mark.parametrize(
    ("months", "relevant", "ends"),
    [
        (120, date(2026, 3, 10), date(2036, 3, 9)),  # the period begins with the relevant date
        (42, date(2026, 3, 10), date(2029, 9, 9)),
        (24, date(2024, 3, 1), date(2026, 2, 28)),
        (6, date(2023, 8, 31), date(2024, 2, 29)),  # no 31 February: the month's last day
        (INDEFINITE, date(2026, 3, 10), None),
    ],
)
def test_the_requirement_ends_with_its_period(months: int | None, relevant: date, ends: date | None) -> None:
    assert _requirement(months, relevant).ends_on == ends


def test_initial_notification_is_due_within_3_days_beginning_with_the_relevant_date() -> None:
    requirement = _requirement(120, date(2026, 3, 10))
    assert requirement.initial_deadline(released_on=None, in_custody=False) == date(2026, 3, 12)


def test_custody_postpones_the_initial_notification_until_release() -> None:
    requirement = _requirement(120, date(2026, 3, 10))
    assert requirement.initial_deadline(released_on=None, in_custody=True) is None
    assert requirement.initial_deadline(released_on=date(2027, 1, 30), in_custody=False) == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("changed", "deadline"),
    [(date(2026, 5, 1), date(2026, 5, 3)), (date(2026, 12, 31), date(2027, 1, 2))],
)
def test_a_change_is_notified_within_3_days(changed: date, deadline: date) -> None:
    assert change_deadline(changed) == deadline


def test_periodic_notification_is_due_within_a_year_of_the_last() -> None:
    assert periodic_deadline(date(2026, 4, 15), no_fixed_abode=False) == date(2027, 4, 14)


def test_a_year_beginning_on_29_february_ends_on_28_february() -> None:
    assert periodic_deadline(date(2024, 2, 29), no_fixed_abode=False) == date(2025, 2, 28)


def test_without_a_fixed_abode_notification_is_weekly() -> None:
    assert periodic_deadline(date(2026, 4, 15), no_fixed_abode=True) == date(2026, 4, 21)


def test_foreign_travel_is_notified_at_least_7_days_before_departure() -> None:
    assert foreign_travel_deadline(date(2026, 8, 20)) == date(2026, 8, 13)


@pytest.mark.parametrize(
    ("under_18", "eligible"),
    [(False, date(2041, 3, 12)), (True, date(2034, 3, 12))],
)
def test_an_indefinite_requirement_may_be_reviewed_after_15_years_or_8_if_under_18(
    under_18: bool, eligible: date
) -> None:
    assert _requirement(INDEFINITE, under_18=under_18).review_eligible_from(date(2026, 3, 12)) == eligible


def test_a_fixed_requirement_has_no_review() -> None:
    assert _requirement(120).review_eligible_from(date(2026, 3, 12)) is None


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2026, 6, 1), "compliant"),
        (date(2026, 6, 17), "compliant"),  # 14 days before: not yet "due soon"
        (date(2026, 6, 18), "due-soon"),
        (date(2026, 7, 1), "due-soon"),  # the deadline itself is still in time
        (date(2026, 7, 2), "overdue"),
    ],
)
def test_compliance_against_the_next_deadline(today: date, status: str) -> None:
    assert compliance(date(2026, 7, 1), today, due_soon_days=14) == status


NO_REQUIREMENT = "none"
KEEP_CURRENT = "keep"


@pytest.mark.parametrize(
    ("current", "new", "outcome"),
    [
        (NO_REQUIREMENT, 84, 84),  # the first requirement
        (84, 120, 120),  # a later, longer requirement governs
        (120, 84, KEEP_CURRENT),  # a shorter one changes nothing
        (120, INDEFINITE, INDEFINITE),
        (INDEFINITE, 120, KEEP_CURRENT),  # nothing outlasts an indefinite requirement
    ],
)
def test_the_requirement_that_ends_last_governs(
    current: int | str | None, new: int | None, outcome: int | str | None
) -> None:
    existing = None if current == NO_REQUIREMENT else _requirement(current)  # type: ignore[arg-type]
    result = longer(existing, _requirement(new))
    if outcome == KEEP_CURRENT:
        assert result is None
    else:
        assert result is not None
        assert result.period.months == outcome


def _state(**changes: object) -> NotificationState:
    base: dict[str, object] = {
        "requirement": _requirement(120, date(2026, 3, 10)),
        "in_custody": False,
        "released_on": None,
        "initial_notified_on": None,
        "last_notified_on": None,
        "no_fixed_abode": False,
    }
    return NotificationState(**(base | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "today", "deadline"),
    [
        ({}, date(2026, 3, 11), ("initial", date(2026, 3, 12))),
        ({"in_custody": True}, date(2026, 3, 11), None),  # nothing is due in custody
        ({"released_on": date(2027, 1, 30)}, date(2027, 1, 30), ("initial", date(2027, 2, 1))),
        (
            {"initial_notified_on": date(2026, 3, 11), "last_notified_on": date(2026, 3, 11)},
            date(2026, 6, 1),
            ("periodic", date(2027, 3, 10)),
        ),
        (  # a change notification resets the year
            {"initial_notified_on": date(2026, 3, 11), "last_notified_on": date(2026, 9, 1)},
            date(2026, 10, 1),
            ("periodic", date(2027, 8, 31)),
        ),
        (
            {
                "initial_notified_on": date(2026, 3, 11),
                "last_notified_on": date(2026, 3, 11),
                "no_fixed_abode": True,
            },
            date(2026, 3, 12),
            ("weekly", date(2026, 3, 17)),
        ),
        (  # released after the last notification: notify within 3 days
            {
                "initial_notified_on": date(2026, 3, 11),
                "last_notified_on": date(2026, 3, 11),
                "released_on": date(2026, 7, 1),
            },
            date(2026, 7, 1),
            ("release", date(2026, 7, 3)),
        ),
        (  # notified on the day of release: that release is notified
            {
                "initial_notified_on": date(2026, 3, 11),
                "last_notified_on": date(2026, 7, 1),
                "released_on": date(2026, 7, 1),
            },
            date(2026, 7, 4),
            ("periodic", date(2027, 6, 30)),
        ),
        (  # the requirement has ended
            {"requirement": _requirement(24, date(2020, 1, 1)), "initial_notified_on": date(2020, 1, 2)},
            date(2026, 1, 1),
            None,
        ),
    ],
)
def test_the_next_notification_deadline(
    changes: dict[str, object], today: date, deadline: tuple[str, date] | None
) -> None:
    assert next_deadline(_state(**changes), today) == deadline


# s.82(3)-(4): (this term, [(linked term, months of it concurrent)]) -> the term s.82(1) reads
AGGREGATE_TABLE = [
    (20, [], 20),
    (20, [(12, 0)], 32),  # consecutive: 20 + 12, so 30 months or more and indefinite
    (20, [(12, 6)], 26),  # partly concurrent: X + Y - Z
    (20, [(12, 12)], 20),  # wholly concurrent: the longer term alone
    (3, [(3, 0)], 6),  # two consecutive 3-month terms: still 6 months or less
    (4, [(4, 0), (4, 2)], 10),
]


@pytest.mark.parametrize(("months", "linked", "aggregate"), AGGREGATE_TABLE)
def test_consecutive_and_partly_concurrent_terms_are_read_together(
    months: int, linked: list[tuple[int, int]], aggregate: int
) -> None:
    assert aggregate_term(months, linked) == aggregate


def test_consecutive_terms_that_reach_30_months_make_the_requirement_indefinite() -> None:
    alone = notification_period("custody", custody_months=20, discharge_months=None, under_18=False)
    together = notification_period(
        "custody", custody_months=aggregate_term(20, [(12, 0)]), discharge_months=None, under_18=False
    )
    assert (alone.months, together.months) == (120, INDEFINITE)


TEN_YEARS = NotificationPeriod(120, "s.82(1)")


@pytest.mark.parametrize(
    ("current", "new_relevant_date", "afresh"),
    [
        (None, date(2030, 1, 1), False),  # a first requirement: nothing to start again
        (Requirement(date(2010, 1, 1), TEN_YEARS, False), date(2025, 1, 1), True),  # ended 2019
        (Requirement(date(2020, 1, 1), TEN_YEARS, False), date(2025, 1, 1), False),  # still running
        (Requirement(date(2010, 1, 1), NotificationPeriod(None, "s.82(1)"), False), date(2025, 1, 1), False),
        # Ended the day before the new relevant date: the new requirement starts afresh.
        (Requirement(date(2010, 1, 1), TEN_YEARS, False), date(2020, 1, 1), True),
        (Requirement(date(2010, 1, 1), TEN_YEARS, False), date(2019, 12, 31), False),
    ],
)
def test_a_requirement_after_an_ended_one_starts_its_notifications_afresh(
    current: Requirement | None, new_relevant_date: date, afresh: bool
) -> None:
    new = Requirement(new_relevant_date, TEN_YEARS, False)
    assert starts_afresh(current, new) is afresh
