"""When a case is next reviewed, and when that review falls due (MAPPA Guidance ch.7). Pure, no I/O.

| level | reviewed at least every | source |
|---|---|---|
| 1 | the lead agency's policy | MAPPA Guidance ch.7 (area policy file) |
| 2 | 16 weeks (policy default) | MAPPA Guidance ch.7 |
| 3 | 8 weeks (policy default) | MAPPA Guidance ch.7 |
"""

from datetime import date, timedelta
from typing import Literal

from eventkit.calendar import subtract_working_days
from services.levels.policy import LeadAgency, LevelsPolicy
from services.levels.rules import Level

Stage = Literal["due", "overdue"]


def review_interval_weeks(level: Level, lead_agency: LeadAgency | None, policy: LevelsPolicy) -> int:
    """How often a case at ``level`` is reviewed; level 1 by its lead agency's policy.

    A level 1 case whose lead agency is not yet known takes the shortest
    level 1 interval, so that not knowing never delays a review.
    """
    if level == 3:
        return policy.level_3_review_weeks
    if level == 2:
        return policy.level_2_review_weeks
    weeks = policy.level_1_review_weeks
    return weeks[lead_agency] if lead_agency else min(weeks.values())


def next_review(decided_on: date, level: Level, lead_agency: LeadAgency | None, policy: LevelsPolicy) -> date:
    """The last day for the next review of a level decided (or reviewed) on ``decided_on``."""
    return decided_on + timedelta(weeks=review_interval_weeks(level, lead_agency, policy))


def review_stage(review_by: date, today: date, policy: LevelsPolicy) -> Stage | None:
    """Overdue after the review date; due from ``review_notice_working_days`` working days before it."""
    if today > review_by:
        return "overdue"
    notice_from = subtract_working_days(review_by, policy.review_notice_working_days, policy.nation)
    return "due" if today >= notice_from else None
