"""Notification requirements of registered sex offenders (Sexual Offences Act 2003 Part 2).

Pure rules, no I/O. Statutory periods "beginning with" a date count that
date as day one, so a 3-day period beginning on the 1st ends on the 3rd.

| rule | value | source |
|---|---|---|
| notification period | indefinite, 10, 7, 5 or 2 years, or the discharge's length | s.82(1) |
| consecutive terms; partly concurrent X and Y overlapping by Z | the aggregate; X + Y - Z | s.82(3)-(4) |
| under 18 on the relevant date | the 10, 7, 5 and 2 year periods are halved | s.82(2) |
| initial notification | within 3 days beginning with the relevant date (or release) | s.83(1), (6) |
| change of name, home address, release | within 3 days beginning with the change | s.84(1) |
| periodic notification | within 1 year beginning with the last notification | s.85(1) |
| no fixed abode | weekly: within 7 days beginning with the last notification | SI 2012/1876 reg.3 |
| foreign travel | at least 7 days before departure | SI 2004/1220 as amended by SI 2012/1876 |
| review of an indefinite requirement | 15 years after the initial notification (8 if under 18) | s.91B |
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

Disposal = Literal[
    "custody",
    "suspended-sentence",
    "detention-and-training-order",
    "life-sentence",
    "imprisonment-for-public-protection",
    "detention-at-his-majestys-pleasure",
    "hospital-order",
    "hospital-order-with-restriction",
    "guardianship-order",
    "community-order",
    "fine",
    "conditional-discharge",
    "absolute-discharge",
    "caution",
]

# Sentences of imprisonment or detention for a term (s.82(1), s.131).
TERM_OF_CUSTODY = frozenset({"custody", "suspended-sentence", "detention-and-training-order"})
ALWAYS_INDEFINITE = frozenset(
    {
        "life-sentence",
        "imprisonment-for-public-protection",
        "detention-at-his-majestys-pleasure",
        "hospital-order-with-restriction",
    }
)

INITIAL_DAYS = 3
CHANGE_DAYS = 3
NO_FIXED_ABODE_DAYS = 7
FOREIGN_TRAVEL_NOTICE_DAYS = 7
REVIEW_AFTER_YEARS = 15
REVIEW_AFTER_YEARS_UNDER_18 = 8


@dataclass(frozen=True)
class NotificationPeriod:
    """How long the requirements last: ``months`` is None when indefinite."""

    months: int | None
    basis: str

    @property
    def indefinite(self) -> bool:
        return self.months is None


def notification_period(
    disposal: Disposal,
    *,
    custody_months: int | None,
    discharge_months: int | None,
    under_18: bool,
) -> NotificationPeriod:
    """The notification period s.82 sets for a disposal."""
    if disposal in ALWAYS_INDEFINITE:
        return NotificationPeriod(None, f"s.82(1): {disposal}")
    if disposal in TERM_OF_CUSTODY:
        months = custody_months or 0
        if months >= 30:
            return NotificationPeriod(None, "s.82(1): custody of 30 months or more")
        if months > 6:
            return _fixed(10, "custody of more than 6 but less than 30 months", under_18)
        return _fixed(7, "custody of 6 months or less", under_18)
    if disposal == "hospital-order":
        return _fixed(7, "hospital order without a restriction order", under_18)
    if disposal == "caution":
        return _fixed(2, "caution", under_18)
    if disposal == "conditional-discharge":
        if discharge_months is None:
            raise ValueError("a conditional discharge needs its length")
        # s.82(2) halves only the 10, 7, 5 and 2 year periods, not a discharge.
        return NotificationPeriod(discharge_months, "s.82(1): the period of the conditional discharge")
    return _fixed(5, "any other disposal", under_18)


def aggregate_term(custody_months: int, linked_terms: Iterable[tuple[int, int]]) -> int:
    """The term s.82(1) reads for a sentence with other Schedule 3 terms imposed with it (s.82(3)-(4)).

    Each linked term is (its months, the months of it that run concurrently
    with the rest): consecutive terms add up; partly concurrent terms X and
    Y that overlap for Z count as X + Y - Z.
    """
    return custody_months + sum(months - overlap for months, overlap in linked_terms)


def _fixed(years: int, why: str, under_18: bool) -> NotificationPeriod:
    if under_18:
        return NotificationPeriod(years * 6, f"s.82(1), halved by s.82(2): {why}")
    return NotificationPeriod(years * 12, f"s.82(1): {why}")


def _period_end(beginning: date, *, months: int) -> date:
    """The last day of a period of ``months`` months beginning with ``beginning``.

    Counted from the day before, so a period beginning on 31 August ends on
    the last day of February, and a year beginning on 29 February ends on
    28 February.
    """
    return beginning - timedelta(days=1) + relativedelta(months=months)


def last_day(beginning: date, days: int) -> date:
    """The last day of a period of ``days`` days beginning with ``beginning``."""
    return beginning + timedelta(days=days - 1)


@dataclass(frozen=True)
class Requirement:
    """A person's notification requirement, with its statutory dates."""

    relevant_date: date
    period: NotificationPeriod
    under_18: bool

    @property
    def ends_on(self) -> date | None:
        """The last day the requirements apply, or None while indefinite."""
        if self.period.months is None:
            return None
        return _period_end(self.relevant_date, months=self.period.months)

    def initial_deadline(self, released_on: date | None, in_custody: bool) -> date | None:
        """Last day for the initial notification (s.83); None while still in custody."""
        if in_custody:
            return None
        start = released_on if released_on and released_on > self.relevant_date else self.relevant_date
        return last_day(start, INITIAL_DAYS)

    def review_eligible_from(self, initial_notification: date) -> date | None:
        """When an indefinite requirement may first be reviewed (s.91B)."""
        if not self.period.indefinite:
            return None
        years = REVIEW_AFTER_YEARS_UNDER_18 if self.under_18 else REVIEW_AFTER_YEARS
        return initial_notification + relativedelta(years=years)


def longer(current: Requirement | None, new: Requirement) -> Requirement | None:
    """The requirement to keep when another conviction brings a new one, or None to keep ``current``.

    Requirements run concurrently; the one that ends last governs.
    """
    if current is None:
        return new
    if current.ends_on is None:
        return None
    if new.ends_on is None or new.ends_on > current.ends_on:
        return new
    return None


def starts_afresh(current: Requirement | None, new: Requirement) -> bool:
    """Whether ``new`` follows a requirement that had already ended: its notifications start again."""
    ends = None if current is None else current.ends_on
    return ends is not None and ends < new.relevant_date


def change_deadline(changed_on: date) -> date:
    """Last day to notify a change of name or home address, or a release (s.84)."""
    return last_day(changed_on, CHANGE_DAYS)


def periodic_deadline(last_notification: date, *, no_fixed_abode: bool) -> date:
    """Last day for the next periodic notification (s.85, weekly without a fixed abode)."""
    if no_fixed_abode:
        return last_day(last_notification, NO_FIXED_ABODE_DAYS)
    return _period_end(last_notification, months=12)


def foreign_travel_deadline(departure: date) -> date:
    """Last day to notify a trip abroad: at least 7 days before departure."""
    return departure - timedelta(days=FOREIGN_TRAVEL_NOTICE_DAYS)


@dataclass(frozen=True)
class NotificationState:
    """What the register knows of a person's notifications under a requirement."""

    requirement: Requirement
    in_custody: bool
    released_on: date | None
    initial_notified_on: date | None
    last_notified_on: date | None
    no_fixed_abode: bool


Deadline = tuple[Literal["initial", "release", "periodic", "weekly"], date]


def next_deadline(state: NotificationState, today: date) -> Deadline | None:
    """The next notification the person must make, and its last day; None if none is due.

    Nothing is due while in custody (s.83(6), s.85(4)) or once the
    requirement has ended.
    """
    ends = state.requirement.ends_on
    if state.in_custody or (ends is not None and today > ends):
        return None
    if state.initial_notified_on is None:
        initial = state.requirement.initial_deadline(state.released_on, in_custody=False)
        return None if initial is None else ("initial", initial)
    last = state.last_notified_on or state.initial_notified_on
    # Notifying on the day of release satisfies s.84(1)(c) for that release.
    if state.released_on is not None and state.released_on > last:
        return "release", change_deadline(state.released_on)
    if state.no_fixed_abode:
        return "weekly", periodic_deadline(last, no_fixed_abode=True)
    return "periodic", periodic_deadline(last, no_fixed_abode=False)


Compliance = Literal["compliant", "due-soon", "overdue"]


def compliance(next_deadline: date | None, today: date, *, due_soon_days: int) -> Compliance:
    """Where a person stands against their next deadline."""
    if next_deadline is None:
        return "compliant"
    if today > next_deadline:
        return "overdue"
    if (next_deadline - today).days < due_soon_days:
        return "due-soon"
    return "compliant"
