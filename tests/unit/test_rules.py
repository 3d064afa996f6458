"""Domain rules from tables taken from the statute and the MAPPA Guidance."""

import pytest

from services.levels.rules import CaseLevel, on_categorised
from services.meetings.rules import meeting_decision
from services.registry.rules import (
    CategoryDecision,
    Conviction,
    Ending,
    Exit,
    after_ending,
    category_for,
    detention_from,
    ended_by_decision,
    prevailing,
)

# CJA 2003 s.325, s.327: (Sch 3 sexual, Sch 15 specified, disposal, custody months) -> category
CATEGORY_TABLE = [
    # Sexual offence with notification requirements: category 1, whatever the disposal.
    (True, True, "custody", 18, 1),
    (True, False, "community-order", None, 1),
    (True, True, "conditional-discharge", None, 1),
    # Schedule 15 with 12 months' or more custody: category 2; less: none.
    (False, True, "custody", 12, 2),
    (False, True, "custody", 11, None),
    (False, True, "detention-and-training-order", 12, 2),
    (False, True, "suspended-sentence", 24, None),
    # Schedule 15 with detention for public protection or a hospital/guardianship order: 2.
    (False, True, "imprisonment-for-public-protection", None, 2),
    (False, True, "life-sentence", None, 2),
    (False, True, "hospital-order", None, 2),
    (False, True, "guardianship-order", None, 2),
    (False, True, "detention-at-his-majestys-pleasure", None, 2),
    # Neither schedule: not MAPPA by conviction alone (category 3 needs a referral).
    (False, False, "custody", 60, None),
]


@pytest.mark.parametrize(("sch3", "sch15", "disposal", "months", "category"), CATEGORY_TABLE)
def test_category_from_conviction(
    sch3: bool, sch15: bool, disposal: str, months: int | None, category: int | None
) -> None:
    decision = category_for(Conviction(sch3, sch15, disposal, months))
    assert (decision.category if decision else None) == category
    if decision:
        assert decision.legal_basis.startswith("CJA 2003 s.327")


def test_a_new_case_sits_at_level_1_pending_screening() -> None:
    assert on_categorised(None) == CaseLevel(level=1, status="pending-screening")


def test_a_known_case_keeps_its_level_when_recategorised() -> None:
    assert on_categorised(CaseLevel(level=2, status="managed")) is None


@pytest.mark.parametrize(("level", "required"), [(1, False), (2, True), (3, True)])
def test_meetings_are_for_levels_2_and_3(level: int, required: bool) -> None:
    assert meeting_decision(level).required is required


def _decision(category: int) -> CategoryDecision:
    return CategoryDecision(category=category, reason="r", legal_basis="CJA 2003 s.327")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("current", "new", "recorded"),
    [
        (None, 1, 1),  # first category
        (None, 2, 2),
        (2, 1, 1),  # registration brings a category 2 person into category 1
        (1, 2, None),  # a later violent conviction does not take them out of category 1
        (1, 1, None),  # nothing changes
        (3, 2, 2),  # a qualifying conviction replaces a referral category
        (4, 1, None),  # category 4 changes by decision only
        (2, None, None),  # a conviction that brings no category changes nothing
    ],
)
def test_the_lowest_numbered_category_prevails(
    current: int | None, new: int | None, recorded: int | None
) -> None:
    decision = prevailing(current, _decision(new) if new else None)
    assert (decision.category if decision else None) == recorded


@pytest.mark.parametrize(
    ("disposal", "detained"),
    [
        ("custody", "in-custody"),
        ("life-sentence", "in-custody"),
        ("detention-and-training-order", "in-custody"),
        ("hospital-order-with-restriction", "detained-in-hospital"),
        ("suspended-sentence", None),
        ("community-order", None),
        ("caution", None),
    ],
)
def test_an_immediate_custodial_or_hospital_disposal_detains(disposal: str, detained: str | None) -> None:
    assert detention_from(disposal) == detained


SEXUAL_ASSAULT_4_YEARS = Conviction(True, True, "custody", 48)
SEXUAL_ASSAULT_COMMUNITY = Conviction(True, True, "community-order", None)


@pytest.mark.parametrize(
    ("category", "ending", "still", "convictions", "outcome"),
    [
        (1, "notification-period-ended", False, [SEXUAL_ASSAULT_4_YEARS], "exit"),
        # Still on licence for a Schedule 15 offence with 12 months' or more custody: category 2.
        (1, "notification-period-ended", True, [SEXUAL_ASSAULT_4_YEARS], 2),
        # Still supervised, but nothing that qualifies for category 2: out of MAPPA.
        (1, "notification-period-ended", True, [SEXUAL_ASSAULT_COMMUNITY], "exit"),
        (2, "notification-period-ended", False, [], None),  # category 2 does not end with registration
        (2, "licence-ended", False, [], "exit"),
        (2, "licence-ended", True, [], None),  # still under a hospital order
        (2, "hospital-order-ended", False, [], "exit"),
        (2, "released-without-licence", False, [], "exit"),
        (2, "released-without-licence", True, [], None),  # still under a hospital order
        (1, "licence-ended", False, [], None),  # a registered sex offender stays while registered
        (3, "licence-ended", False, [], None),  # category 3 ends by decision
        (None, "licence-ended", False, [], None),
    ],
)
def test_what_ends_each_category(
    category: int | None, ending: Ending, still: bool, convictions: list[Conviction], outcome: object
) -> None:
    found = after_ending(category, ending, still_detained_or_supervised=still, convictions=convictions)
    if outcome == "exit":
        assert isinstance(found, Exit)
    elif outcome is None:
        assert found is None
    else:
        assert isinstance(found, CategoryDecision)
        assert found.category == outcome
        assert found.reason.startswith("Notification requirements ended")


def test_murder_is_category_2_though_not_in_schedule_15() -> None:
    decision = category_for(Conviction(False, False, "life-sentence", None, murder=True))
    assert decision is not None
    assert (decision.category, decision.legal_basis) == (2, "CJA 2003 s.327")


@pytest.mark.parametrize(
    ("current", "decided", "exits"),
    [(3, 3, True), (4, 4, True), (1, 3, False), (3, 4, False), (None, 3, False)],
)
def test_categories_3_and_4_end_only_by_a_decision_about_that_category(
    current: int | None, decided: int, exits: bool
) -> None:
    assert (ended_by_decision(current, decided) is not None) is exits
