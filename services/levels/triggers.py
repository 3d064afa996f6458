"""Facts that call for a level decision or a review of what went wrong. Pure, no I/O.

| trigger | when | source |
|---|---|---|
| release screening | release within the window (6 months), no level confirmed | MAPPA Guidance ch.7 |
| consider referral | RoSH rises to high or very high while managed at level 1 | MAPPA Guidance ch.7 |
| serious case review | serious further offence charge: tell the board chair in 5 days | MAPPA Guidance |
"""

from datetime import date

from dateutil.relativedelta import relativedelta

from eventkit.calendar import add_working_days
from services.levels.policy import LevelsPolicy
from services.levels.rules import CaseLevel

HIGH_ROSH = frozenset({"high", "very-high"})


def needs_release_screening(
    case: CaseLevel, *, confirmed: bool, release_date: date | None, today: date, policy: LevelsPolicy
) -> bool:
    """A coming release with no level confirmed: the level must be set before the person leaves custody."""
    if case.status == "closed" or confirmed or release_date is None or release_date < today:
        return False
    return today >= release_date - relativedelta(months=policy.release_window_months)


def should_consider_referral(case: CaseLevel, previous_rosh: str | None, rosh: str) -> bool:
    """RoSH has just risen to high or very high for a case managed at level 1."""
    return (
        case.status != "closed" and case.level == 1 and rosh in HIGH_ROSH and previous_rosh not in HIGH_ROSH
    )


def serious_case_review_by(charged_on: date, policy: LevelsPolicy) -> date:
    """The last day to tell the strategic management board chair of a serious further offence charge."""
    return add_working_days(charged_on, policy.serious_case_review_working_days, policy.nation)
